// PPTP control connection (RFC 2637 §1–3): codec, framer, state tables and the sans-IO PAC/PNS cores.
export * from './constants.js'
export * from './messages.js'
export * from './framer.js'
export * from './states.js'
export * from './connection-types.js'
export { PptpPacConnection } from './pac-connection.js'
export { PptpPnsConnection } from './pns-connection.js'

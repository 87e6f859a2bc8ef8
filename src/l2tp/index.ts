// L2TP (RFC 2661): header and AVP codecs, hidden AVPs, message rules, tunnel authentication, the reliable
// control channel and the tunnel/session state tables.
export * from './header.js'
export * from './avp/constants.js'
export * from './avp/table.js'
export * from './avp/codec.js'
export * from './avp/hidden.js'
export * from './rules.js'
export * from './auth.js'
export * from './states.js'
export * from './control/seq.js'
export * from './control/channel.js'
export * from './lns-types.js'
export { L2tpLnsTunnel } from './lns-tunnel.js'

// The plain L2TP remote-access client (`gatehouse connect l2tp://HOST --no-ipsec`): dials the call
// (l2tp-dial.ts), then brings the tunnel up (tunnel.ts) as the SSTP and PPTP clients do: same
// progress, routes and DNS. IPsec (RFC 3193) is not implemented yet; MPPE-128 is required.
import { dialL2tp } from './l2tp-dial.js'
import { connectDialed, type ClientHandle, type DialedClientOptions } from './dialed-client.js'
import { tunnelMtu } from '../dataplane/mtu.js'

export type L2tpClientOptions = DialedClientOptions
export type L2tpClientHandle = ClientHandle

/** Said once at connect: what plain L2TP exposes. */
export const PLAIN_L2TP_CLIENT_WARNING =
  'WARNING: L2TP without IPsec: anyone on the path sees your user name and the MS-CHAPv2 exchange (one DES key search ' +
  'recovers the password hash) and MPPE has no integrity, as with PPTP; prefer sstp:// when the gateway offers it'

export function connectL2tp(o: L2tpClientOptions): Promise<L2tpClientHandle> {
  return connectDialed(o, { warning: PLAIN_L2TP_CLIENT_WARNING, defaultMtu: tunnelMtu('l2tp') },
    // L2TP's UDP datagrams are not batched into the TUN (aroundReceive unused).
    (mru, hooks) => dialL2tp({ host: o.host, port: o.port, user: o.user, password: o.password, mru, progress: o.progress, onUp: hooks.onUp, onIp: hooks.onIp, onClosed: hooks.onClosed }))
}

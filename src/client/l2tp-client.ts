// The L2TP remote-access client (`gatehouse connect l2tp://HOST`): L2TP/IPsec (RFC 3193) with a pre-shared
// key or a machine certificate (l2tp-ipsec-dial.ts), or plain L2TP with MPPE-128 when --no-ipsec asks for it;
// then the tunnel (tunnel.ts) as the SSTP and PPTP clients do: same progress, routes and DNS.
import { dialL2tp } from './l2tp-dial.js'
import { dialL2tpIpsec, type IpsecClientAuth } from './l2tp-ipsec-dial.js'
import { connectDialed, type ClientHandle, type DialedClientOptions } from './dialed-client.js'
import { tunnelMtu } from '../dataplane/mtu.js'

/** `secret`: the L2TP tunnel secret (RFC 2661 §5.1.1), when the gateway requires tunnel authentication. */
export type L2tpClientOptions = DialedClientOptions & { readonly secret?: Uint8Array }
export type L2tpClientHandle = ClientHandle

/** Said once at connect: what plain L2TP exposes. */
export const PLAIN_L2TP_CLIENT_WARNING =
  'WARNING: L2TP without IPsec: anyone on the path sees your user name and the MS-CHAPv2 exchange (one DES key search ' +
  'recovers the password hash) and MPPE has no integrity, as with PPTP; prefer sstp:// when the gateway offers it'

/** Said once at connect with a pre-shared key. */
export const PSK_CLIENT_WARNING =
  'note: IPsec with a pre-shared key: every client of this gateway holds the same key, so another client could pose as the gateway; a machine certificate (--cert) does not have that weakness'

/** L2TP/IPsec: IKE and ESP first, then the call inside the SA. */
export function connectL2tpIpsec(o: L2tpClientOptions & { readonly auth: IpsecClientAuth }): Promise<L2tpClientHandle> {
  return connectDialed(o, { warning: o.auth.kind === 'psk' ? PSK_CLIENT_WARNING : '', defaultMtu: tunnelMtu('l2tp-ipsec') },
    (mru, hooks) => dialL2tpIpsec({ host: o.host, port: o.port, user: o.user, password: o.password, mru, auth: o.auth, ...(o.secret ? { secret: o.secret } : {}), progress: o.progress, onUp: hooks.onUp, onIp: hooks.onIp, onClosed: hooks.onClosed }))
}

export function connectL2tp(o: L2tpClientOptions): Promise<L2tpClientHandle> {
  return connectDialed(o, { warning: PLAIN_L2TP_CLIENT_WARNING, defaultMtu: tunnelMtu('l2tp') },
    // L2TP's UDP datagrams are not batched into the TUN (aroundReceive unused).
    (mru, hooks) => dialL2tp({ host: o.host, port: o.port, user: o.user, password: o.password, mru, ...(o.secret ? { secret: o.secret } : {}), progress: o.progress, onUp: hooks.onUp, onIp: hooks.onIp, onClosed: hooks.onClosed }))
}

// The PPTP remote-access client (`gatehouse connect pptp://HOST`): dials the call (pptp-dial.ts) and
// runs it as every dialled client (dialed-client.ts): same progress, routes and DNS as SSTP.
import { dialPptp } from './pptp-dial.js'
import { connectDialed, type ClientHandle, type DialedClientOptions } from './dialed-client.js'
import { tunnelMtu } from '../dataplane/mtu.js'

export type PptpClientOptions = DialedClientOptions
export type PptpClientHandle = ClientHandle

export const PPTP_CLIENT_WARNING = 'WARNING: PPTP protects the password with MS-CHAPv2, which one DES key search breaks, and MPPE has no integrity; prefer sstp:// when the gateway offers it'

export function connectPptp(o: PptpClientOptions): Promise<PptpClientHandle> {
  return connectDialed(o, { warning: PPTP_CLIENT_WARNING, defaultMtu: tunnelMtu('pptp') },
    // The GRE and MPPE output buffers are never reused, so received batches may reach the TUN in one write.
    (mru, hooks) => dialPptp({ host: o.host, port: o.port, user: o.user, password: o.password, mru, progress: o.progress, ...hooks }))
}

// The plain L2TP remote-access client (`gatehouse connect l2tp://HOST --no-ipsec`): dials the call
// (l2tp-dial.ts), then brings the tunnel up (tunnel.ts) as the SSTP and PPTP clients do: same
// progress, routes and DNS. IPsec (RFC 3193) is not implemented yet; MPPE-128 is required.
import { dialL2tp, type L2tpDial } from './l2tp-dial.js'
import { setUpTunnel, describeUp, type ClientTunnel, type ClientUp } from './tunnel.js'
import { describeCloseReason } from './errors.js'
import { tunnelMtu } from '../dataplane/mtu.js'
import { VpnError } from '../lib/errors.js'
import { deferred } from '../lib/deferred.js'

export interface L2tpClientOptions {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string
  readonly split?: readonly string[]
  readonly tunName?: string
  readonly setDns?: boolean
  readonly mtu?: number
  readonly progress: (line: string) => void
}

export interface L2tpClientHandle {
  readonly up: ClientUp
  readonly closed: Promise<void>
  disconnect(): Promise<void>
}

/** Said once at connect: what plain L2TP exposes. */
export const PLAIN_L2TP_CLIENT_WARNING =
  'WARNING: L2TP without IPsec: anyone on the path sees your user name and the MS-CHAPv2 exchange (one DES key search ' +
  'recovers the password hash) and MPPE has no integrity, as with PPTP; prefer sstp:// when the gateway offers it'

export async function connectL2tp(o: L2tpClientOptions): Promise<L2tpClientHandle> {
  o.progress(PLAIN_L2TP_CLIENT_WARNING)
  const mtu = o.mtu ?? tunnelMtu('l2tp')
  let tunnel: ClientTunnel | undefined
  let ended = false
  let localClose = false
  const upD = deferred<ClientUp>()
  const closedD = deferred<void>(true)
  const closed = closedD.promise
  const teardown = (): void => { ended = true; tunnel?.teardown(); tunnel = undefined }

  // eslint-disable-next-line prefer-const
  let dial: L2tpDial
  dial = await dialL2tp({
    host: o.host, port: o.port, user: o.user, password: o.password, mru: mtu, progress: o.progress,
    onUp: (ev) => {
      void (async () => {
        try {
          const t = await setUpTunnel({
            localAddress: ev.localAddress, peerAddress: ev.peerAddress, dns: ev.dns, outerGateway: dial.peerIp,
            tunName: o.tunName, mtu, split: o.split, setDns: o.setDns !== false, onPackets: (pkts) => dial.sendMany(pkts),
          })
          if (ended) { t.teardown(); return }
          tunnel = t
          o.progress(describeUp(t, o.split))
          upD.resolve(t.info)
        } catch (e) {
          upD.reject(e as Error)
          dial.close('local-error', (e as Error).message)
        }
      })()
    },
    onIp: (packet) => { tunnel?.write(packet) },
    onClosed: (reason, message) => {
      teardown()
      if (localClose) { closedD.resolve(); return }
      const err = new VpnError('ERR_DISCONNECTED', describeCloseReason(reason, message, o.user))
      upD.reject(err)
      closedD.reject(err)
    },
  })
  const up = await upD.promise
  return {
    up,
    closed,
    async disconnect() {
      localClose = true
      dial.close('admin', 'user disconnected')
      const t = setTimeout(() => { teardown(); closedD.resolve() }, 5000)
      await closed.catch(() => {})
      clearTimeout(t)
    },
  }
}

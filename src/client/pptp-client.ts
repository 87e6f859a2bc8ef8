// The PPTP remote-access client (`gatehouse connect pptp://HOST`): dials the call (pptp-dial.ts), then
// brings the tunnel up (tunnel.ts) exactly as the SSTP client does: same progress, routes and DNS.
import { dialPptp, type PptpDial } from './pptp-dial.js'
import { setUpTunnel, describeUp, type ClientTunnel, type ClientUp } from './tunnel.js'
import { describeCloseReason } from './errors.js'
import { tunnelMtu } from '../dataplane/mtu.js'
import { VpnError } from '../lib/errors.js'
import { deferred } from '../lib/deferred.js'

export interface PptpClientOptions {
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

export interface PptpClientHandle {
  readonly up: ClientUp
  readonly closed: Promise<void>
  disconnect(): Promise<void>
}

export async function connectPptp(o: PptpClientOptions): Promise<PptpClientHandle> {
  o.progress('WARNING: PPTP protects the password with MS-CHAPv2, which one DES key search breaks, and MPPE has no integrity; prefer sstp:// when the gateway offers it')
  const mtu = o.mtu ?? tunnelMtu('pptp')
  let tunnel: ClientTunnel | undefined
  let ended = false
  let localClose = false
  const upD = deferred<ClientUp>()
  const closedD = deferred<void>(true)
  const closed = closedD.promise
  const teardown = (): void => { ended = true; tunnel?.teardown(); tunnel = undefined }

  // eslint-disable-next-line prefer-const
  let dial: PptpDial
  dial = await dialPptp({
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
    // One TUN write call per received GRE batch (the GRE and MPPE output buffers are never reused).
    aroundReceive: (fn) => { if (tunnel) tunnel.batch(fn); else fn() },
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

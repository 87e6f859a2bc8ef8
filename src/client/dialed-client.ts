// The shape every PPP-carrying dial shares (PPTP, L2TP: one call, PPP with MPPE), and the remote-access
// client built on any of them: the tunnel (tunnel.ts) once PPP is up, the same progress, routes, DNS,
// messages and disconnect for every carrier.
import type { PppEvent } from '../ppp/types.js'
import type { MppePolicy } from '../ppp/ccp/policy.js'
import { setUpTunnel, describeUp, type ClientTunnel, type ClientUp } from './tunnel.js'
import { describeCloseReason } from './errors.js'
import { VpnError } from '../lib/errors.js'
import { deferred } from '../lib/deferred.js'

/** What a carrier's dial takes (pptp-dial.ts, l2tp-dial.ts extend it with their own fields). */
export interface CarrierDialOptions {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string
  readonly mru: number
  readonly mppe?: MppePolicy
  readonly echoIntervalMs?: number
  readonly echoFailures?: number
  readonly progress: (line: string) => void
  /** IPCP is up (MPPE too): addresses and pushed DNS. Once per dial. */
  readonly onUp: (ev: Extract<PppEvent, { type: 'up' }>) => void
  /** One IPv4 packet from the peer (a view: consume it before returning). */
  readonly onIp: (packet: Uint8Array) => void
  /** Exactly once, when the call is over (either side, any cause). */
  readonly onClosed: (reason: string, message: string) => void
}

/** A dialled call. */
export interface CarrierDial {
  /** The gateway's outer IPv4 address (the carrier's packets go there). */
  readonly peerIp: string
  sendIp(packet: Uint8Array): void
  /** Several packets (one TUN batch). */
  sendMany(packets: readonly Uint8Array[]): void
  /** Orderly close; onClosed follows. */
  close(reason: string, message: string): void
  counters(): Record<string, number>
}

/**
 * The PPP 'up' handler of a dial: the first 'up' goes to `onUp`; a renegotiation (LCP or IPCP restarted)
 * announces 'up' again, and then the tunnel stays as it was if the addresses are unchanged, else
 * `close('address-changed', ...)` ends the call (the tunnel set up for the old ones would be wrong).
 */
export function firstUpOnly(o: Pick<CarrierDialOptions, 'progress' | 'onUp' | 'mppe'>, close: (reason: string, message: string) => void): (ev: Extract<PppEvent, { type: 'up' }>) => void {
  let seen: { local: string; peer: string } | undefined
  return (ev) => {
    if (seen) {
      if (seen.local !== ev.localAddress || seen.peer !== ev.peerAddress) {
        close('address-changed', `the gateway renegotiated different addresses (${ev.localAddress}/${ev.peerAddress}, was ${seen.local}/${seen.peer})`)
      } else o.progress('PPP renegotiated; addresses unchanged')
      return
    }
    seen = { local: ev.localAddress, peer: ev.peerAddress }
    // A policy with no key strengths means the carrier protects PPP itself (L2TP inside IPsec).
    o.progress(`PPP up${o.mppe?.keyBits.length === 0 ? '' : ' with MPPE'}: address ${ev.localAddress}, gateway ${ev.peerAddress}`)
    o.onUp(ev)
  }
}

export interface DialedClientOptions {
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

/** A connected client; `closed` settles when the tunnel ends (resolves on a clean local close). */
export interface ClientHandle {
  readonly up: ClientUp
  readonly closed: Promise<void>
  disconnect(): Promise<void>
}

/** Hooks the client gives a dial: its callbacks, plus `aroundReceive` for carriers that can batch TUN writes. */
export type DialHooks = Pick<CarrierDialOptions, 'onUp' | 'onIp' | 'onClosed'> & { readonly aroundReceive: (fn: () => void) => void }

/**
 * Runs `dial` (with the MRU and hooks) and brings the tunnel up when PPP is; resolves once it is up,
 * rejects with a VpnError naming the cause otherwise. `warning` is said first (the carrier's weakness).
 */
export async function connectDialed(o: DialedClientOptions, carrier: { warning: string; defaultMtu: number },
  dial: (mru: number, hooks: DialHooks) => Promise<CarrierDial>): Promise<ClientHandle> {
  if (carrier.warning) o.progress(carrier.warning)
  const mtu = o.mtu ?? carrier.defaultMtu
  let tunnel: ClientTunnel | undefined
  let ended = false
  let localClose = false
  const upD = deferred<ClientUp>()
  const closedD = deferred<void>(true)
  const teardown = (): void => { ended = true; tunnel?.teardown(); tunnel = undefined }

  // eslint-disable-next-line prefer-const
  let d: CarrierDial
  d = await dial(mtu, {
    onUp: (ev) => {
      void (async () => {
        try {
          const t = await setUpTunnel({
            localAddress: ev.localAddress, peerAddress: ev.peerAddress, dns: ev.dns, outerGateway: d.peerIp,
            tunName: o.tunName, mtu, split: o.split, setDns: o.setDns !== false, onPackets: (pkts) => d.sendMany(pkts),
          })
          if (ended) { t.teardown(); return }
          tunnel = t
          o.progress(describeUp(t, o.split))
          upD.resolve(t.info)
        } catch (e) {
          upD.reject(e as Error)
          d.close('local-error', (e as Error).message)
        }
      })()
    },
    onIp: (packet) => { tunnel?.write(packet) },
    // One TUN write call per received carrier batch (for carriers whose buffers are never reused).
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
    closed: closedD.promise,
    async disconnect() {
      localClose = true
      d.close('admin', 'user disconnected')
      const t = setTimeout(() => { teardown(); closedD.resolve() }, 5000)
      await closedD.promise.catch(() => {})
      clearTimeout(t)
    },
  }
}

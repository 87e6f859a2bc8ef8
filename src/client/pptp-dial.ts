// Dials one PPTP call (RFC 2637, PNS role): TCP 1723 control connection, Outgoing-Call-Request, then
// PPP with MPPE over enhanced GRE. No TUN here: the remote-access client (pptp-client.ts) and the
// gateway's router-to-router link both build on it.
import type { Socket } from 'node:net'
import { PptpPnsConnection } from '../pptp/control/pns-connection.js'
import type { PptpEvent } from '../pptp/control/connection-types.js'
import { GreCall } from '../pptp/gre/call.js'
import { PptpDataCall } from '../pptp/data-call.js'
import { PppSession } from '../ppp/session.js'
import type { PppEvent } from '../ppp/types.js'
import type { MppePolicy } from '../ppp/ccp/policy.js'
import { StreamDriver } from '../transport/stream-driver.js'
import { connectTcp, ipv4Of } from '../transport/tcp.js'
import { GreDriver, type GreBinding } from '../transport/gre-driver.js'
import { systemRng } from '../crypto/rng.js'
import { VpnError } from '../lib/errors.js'
import { describeConnectError } from './errors.js'
import { firstUpOnly, type CarrierDial, type CarrierDialOptions } from './dialed-client.js'
import { prefixCounters } from '../lib/counters.js'

/** The client's MPPE policy: 128-bit required; either mode (Windows servers ask for stateless). */
export const CLIENT_MPPE_POLICY: MppePolicy = { required: true, keyBits: [128], stateless: 'allowed' }

/** How long an orderly close may take (LCP Terminate, Stop-Control-Connection) before the socket is cut. */
export const STOP_GRACE_MS = 3000

export interface PptpDialOptions extends CarrierDialOptions {
  /**
   * A GRE driver to share (the gateway's, for router links): one raw socket and one demux and Call ID
   * space for everything from this host, so a gateway that both answers and dials a peer never keys two
   * calls alike. Absent: the dial opens its own, bound to the control connection's local address.
   */
  readonly gre?: GreDriver
  /** Wraps the handling of each received GRE batch (the client batches its TUN writes; see tunnel.ts). Own GRE socket only. */
  readonly aroundReceive?: (fn: () => void) => void
  /** Source address of the control connection (a gateway dials from its listen address, where its GRE socket is bound). */
  readonly localAddress?: string
}

/** The dialled PPTP call (close = LCP Terminate, Call-Clear, Stop-Control-Connection). */
export type PptpDial = CarrierDial

/** Connects the control connection; the call and PPP continue in the background (see the callbacks). */
export async function dialPptp(o: PptpDialOptions): Promise<PptpDial> {
  o.progress(`connecting to ${o.host}:${o.port} (PPTP)`)
  let sock: Socket
  try {
    sock = await connectTcp({ host: o.host, port: o.port, localAddress: o.localAddress })
  } catch (e) {
    throw new VpnError('ERR_CONNECT', describeConnectError(e as NodeJS.ErrnoException, o.host, o.port, 'PPTP'))
  }
  const peerIp = ipv4Of(sock.remoteAddress)
  const localIp = ipv4Of(sock.localAddress)
  if (!peerIp || !localIp) { sock.destroy(); throw new VpnError('ERR_CONNECT', `PPTP needs IPv4 (GRE); connected over ${sock.remoteAddress}`) }
  const ownGre = o.gre === undefined
  let gre: GreDriver
  try {
    gre = o.gre ?? GreDriver.open({ bindAddress: localIp, aroundReceive: o.aroundReceive, onError: () => { /* counted by the driver; keepalives notice a dead path */ } })
  } catch (e) {
    sock.destroy()
    throw e
  }
  const core = new PptpPnsConnection({ rng: systemRng, hostName: 'gatehouse', autoCall: true, callIds: gre.callIds }, Date.now())
  const onUp = firstUpOnly(o, (reason, message) => binding?.run(() => data?.close(Date.now(), reason, message)))
  let data: PptpDataCall | undefined
  let binding: GreBinding | undefined
  let callId: number | undefined
  let finished = false
  let downReason: { reason: string; message: string } | undefined

  // A peer that never answers Stop-Control-Connection-Request must not hold the socket (and the process) for 60 s.
  let hardTimer: NodeJS.Timeout | undefined
  const hardStopSoon = (): void => {
    hardTimer ??= setTimeout(() => { sock.destroy(); finish(downReason?.reason ?? 'admin', downReason?.message ?? 'closed') }, STOP_GRACE_MS)
    hardTimer.unref()
  }
  sock.once('close', () => { if (hardTimer) clearTimeout(hardTimer) })
  const finish = (reason: string, message: string): void => {
    if (finished) return
    finished = true
    binding?.remove()
    if (ownGre) gre.close()
    o.onClosed(reason, message)
  }

  const onPpp = (ev: PppEvent): void => {
    switch (ev.type) {
      case 'authenticated': o.progress(`authenticated as ${o.user} (${ev.method})`); break
      case 'up': onUp(ev); break
      case 'ip': o.onIp(ev.packet); break
      case 'down':
        downReason = { reason: ev.reason, message: ev.message }
        binding?.run(() => data?.end())
        // Stop the control connection (§2.3; it clears the call). The call is over now: report it at
        // once rather than after the Stop-Control-Connection-Reply, which a dead path never brings.
        driver.run(() => core.close(Date.now(), ev.reason, ev.message))
        hardStopSoon()
        finish(ev.reason, ev.message)
        break
    }
  }

  const driver: StreamDriver<PptpEvent> = new StreamDriver(core, sock, (ev) => {
    switch (ev.type) {
      case 'controlUp':
        o.progress(`PPTP control connection up (${ev.peerVendorString || 'unknown vendor'}${ev.peerHostName ? `, ${ev.peerHostName}` : ''})`)
        break
      case 'callUp': {
        if (data) break // one call per dial
        const now = Date.now()
        callId = ev.callId
        const ppp = new PppSession({ role: 'client', rng: systemRng, user: o.user, password: o.password, mru: o.mru, mppe: o.mppe ?? CLIENT_MPPE_POLICY,
          ...(o.echoIntervalMs !== undefined ? { echoIntervalMs: o.echoIntervalMs } : {}), ...(o.echoFailures !== undefined ? { echoFailures: o.echoFailures } : {}) }, now)
        const d = new PptpDataCall(new GreCall({ localCallId: ev.callId, peerCallId: ev.peerCallId, peerReceiveWindow: ev.peerReceiveWindow }), ppp)
        data = d
        o.progress(`call established (call id ${ev.callId}/${ev.peerCallId}); negotiating PPP`)
        binding = gre.attach(peerIp, d, onPpp, (fault) => {
          downReason = { reason: 'internal-error', message: String((fault as Error)?.message ?? fault) }
          driver.run(() => core.close(Date.now(), 'internal-error', downReason!.message))
        })
        binding.run(() => d.open(now))
        break
      }
      case 'callDown':
        if (data === undefined) {
          // Refused (Outgoing-Call-Reply with an error), disconnected or timed out before it came up:
          // this dial is over, the control connection has no other use.
          downReason ??= { reason: 'call-refused', message: ev.reason }
          driver.run(() => core.close(Date.now(), 'call-refused', ev.reason))
          hardStopSoon()
          finish(downReason.reason, downReason.message)
          break
        }
        if (ev.callId === callId && !data.isEnded) {
          downReason ??= { reason: 'peer-cleared', message: `the gateway cleared the call (${ev.reason})` }
          binding?.run(() => data?.lowerDown(Date.now(), 'peer-cleared', ev.reason))
          driver.run(() => core.close(Date.now(), downReason!.reason, downReason!.message))
        }
        break
      case 'setLinkInfo': break
      case 'closed': {
        if (data && !data.isEnded) binding?.run(() => data?.lowerDown(Date.now(), 'control-closed', ev.message))
        driver.end()
        const r = downReason ?? { reason: ev.reason, message: ev.message }
        finish(r.reason, r.message)
        break
      }
    }
  }, (fault) => finish('internal-error', String((fault as Error)?.message ?? fault)))
  driver.run(() => {})

  return {
    peerIp,
    sendIp: (packet) => { if (data && !finished) binding?.run(() => data!.sendIp(packet)) },
    sendMany: (packets) => { if (data && !finished) binding?.run(() => { for (const p of packets) data!.sendIp(p) }) },
    close: (reason, message) => {
      if (finished) return
      downReason ??= { reason, message }
      hardStopSoon()
      if (data && !data.isEnded && data.ppp.phase !== 'dead') binding?.run(() => data!.close(Date.now(), reason, message))
      else driver.run(() => core.close(Date.now(), reason, message))
    },
    counters: () => ({ ...prefixCounters('control', core.counters()), ...prefixCounters('gre', gre.counters()), ...(data ? data.counters() : {}) }),
  }
}

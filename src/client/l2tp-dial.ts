// Dials one plain L2TP call (RFC 2661, LAC role; no IPsec yet): SCCRQ/SCCRP/SCCCN, ICRQ/ICRP/ICCN over
// UDP 1701, then PPP with MPPE in the data messages. Also L2tpPppCall, the timer-owning runner of one
// PPP session on an L2TP call, shared with the gateway's listener (gateway/l2tp-listener.ts).
import { lookup } from 'node:dns/promises'
import { L2tpLacEndpoint, L2tpLacTunnel } from '../l2tp/index.js'
import type { L2tpTunnelEvent } from '../l2tp/index.js'
import { PppSession } from '../ppp/session.js'
import type { PppEvent, PppLink } from '../ppp/types.js'
import { UdpSocket } from '../transport/udp.js'
import { DatagramDriver } from '../transport/datagram-driver.js'
import type { DatagramSocket } from '../transport/datagram-driver.js'
import type { Endpoint } from '../lib/endpoint.js'
import { systemRng } from '../crypto/rng.js'
import { VpnError } from '../lib/errors.js'
import type { Millis } from '../lib/time.js'
import { CLIENT_MPPE_POLICY } from './pptp-dial.js'
import { firstUpOnly, type CarrierDial, type CarrierDialOptions } from './dialed-client.js'
import { prefixCounters } from '../lib/counters.js'

/**
 * One PPP session carried on an L2TP call: the call's own timer (PPP restart and echo), its frames
 * out through `send` (the carrier encodes them as L2TP data messages), its events to `onEvent`.
 * Every entry point catches: an exception (our bug) stops this call only and goes to `onFault`.
 */
export class L2tpPppCall {
  readonly ppp: PppLink
  private readonly send: (frame: Uint8Array) => void
  private readonly onEvent: (ev: PppEvent) => void
  private readonly onFault: (e: unknown) => void
  private timer: NodeJS.Timeout | undefined
  private timerAt: Millis | undefined
  private stopped = false

  constructor(ppp: PppLink, send: (frame: Uint8Array) => void, onEvent: (ev: PppEvent) => void, onFault: (e: unknown) => void) {
    this.ppp = ppp
    this.send = send
    this.onEvent = onEvent
    this.onFault = onFault
  }

  get isStopped(): boolean { return this.stopped }

  /** Runs `fn` (a direct call into the PPP session), then sends its frames, delivers its events and re-arms the timer. */
  run(fn?: () => void): void {
    if (this.stopped) return
    try {
      fn?.()
      this.drain()
      this.arm()
    } catch (e) {
      this.stop()
      this.onFault(e)
    }
  }

  /** A PPP frame from the peer (a view into the datagram; PPP consumes it before returning). */
  handleFrame(frame: Uint8Array): void { this.run(() => this.ppp.handleFrame(Date.now(), frame)) }

  /** Hot path: one IPv4 packet to the peer; dropped while IPCP/MPPE are not up. */
  sendIp(packet: Uint8Array): void {
    if (this.stopped) return
    try {
      const f = this.ppp.encodeIp(packet)
      if (f) this.send(f)
    } catch (e) { this.stop(); this.onFault(e) }
  }

  /** Stops the timer and further input (after 'down'; MPPE keys are dropped by PPP going down). */
  stop(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }

  private drain(): void {
    for (let f = this.ppp.pollFrame(); f !== undefined; f = this.ppp.pollFrame()) this.send(f)
    for (let e = this.ppp.pollEvent(); e !== undefined; e = this.ppp.pollEvent()) {
      this.onEvent(e)
      // 'down' may stop us from inside onEvent; frames queued by an event handler still go out.
      for (let f = this.ppp.pollFrame(); f !== undefined; f = this.ppp.pollFrame()) this.send(f)
    }
  }

  /** Re-arms only when the deadline moves earlier (or none is set): an early wake-up is harmless, a per-packet re-arm is not. */
  private arm(): void {
    if (this.stopped) return
    const at = this.ppp.nextTimeout()
    if (at === undefined) return
    if (this.timer && this.timerAt !== undefined && this.timerAt <= at) return
    if (this.timer) clearTimeout(this.timer)
    this.timerAt = at
    this.timer = setTimeout(() => { this.timer = undefined; this.timerAt = undefined; this.run(() => this.ppp.handleTimeout(Date.now())) }, Math.max(0, at - Date.now()))
  }
}

/** How long after our StopCCN the socket stays open (its retransmission or the peer's ack). */
export const L2TP_STOP_GRACE_MS = 1000

/** What carries the L2TP datagrams when it is not a plain UDP socket (L2TP inside IPsec, RFC 3193). */
export interface L2tpCarrier {
  readonly socket: DatagramSocket
  /** The gateway's outer address. */
  readonly peerIp: string
  /** The LNS as the socket knows it. */
  readonly peer: Endpoint
  /** Said in the first progress line ("inside IPsec (AES-CBC-256/HMAC-SHA1-96)"). */
  readonly label: string
  /** Called once the call is over and its last messages had their grace time. */
  close(): void
  counters(): Record<string, number>
}

export interface L2tpDialOptions extends CarrierDialOptions {
  /** Local address to bind (default all IPv4 interfaces, an ephemeral port). */
  readonly localAddress?: string
  /** Carry L2TP inside this instead of plain UDP. */
  readonly carrier?: L2tpCarrier
  /** RFC 2661 §5.1.1 tunnel secret: answer the LNS's Challenge and challenge it back. */
  readonly secret?: Uint8Array
}

/** The dialled L2TP call (close = LCP Terminate, then CDN and StopCCN). */
export type L2tpDial = CarrierDial

/** Opens the UDP socket and sends SCCRQ; the tunnel, the call and PPP continue in the background. */
export async function dialL2tp(o: L2tpDialOptions): Promise<L2tpDial> {
  const carrier = o.carrier
  const peerIp = carrier?.peerIp ?? await resolveGateway(o.host)
  o.progress(`connecting to ${peerIp}:${o.port} (L2TP ${carrier ? carrier.label : 'over UDP, without IPsec'})`)
  const udp = carrier ? undefined : await UdpSocket.bind({ address: o.localAddress ?? '0.0.0.0', port: 0, what: 'L2TP client' })
  const sock: DatagramSocket = carrier?.socket ?? udp!
  const now0 = Date.now()
  const b = systemRng.bytes(2)
  // §5.3: Tunnel ID 0 is never an Assigned Tunnel ID.
  const tunnelId = ((b[0]! << 8) | b[1]!) || 1
  const tunnel = new L2tpLacTunnel(now0, { rng: systemRng, tunnelId, hostName: 'gatehouse', vendorName: 'Gatehouse', ...(o.secret ? { secret: o.secret, challengePeer: true } : {}) })
  let call: L2tpPppCall | undefined
  let sessionId: number | undefined
  let finished = false
  let downReason: { reason: string; message: string } | undefined
  const onUp = firstUpOnly(o, (reason, message) => call?.run(() => call?.ppp.close(Date.now(), reason, message)))
  let closeTimer: NodeJS.Timeout | undefined

  const finish = (reason: string, message: string): void => {
    if (finished) return
    finished = true
    call?.stop()
    // Keep the socket briefly: our StopCCN/CDN may need a retransmission (RFC 2661 §5.7 linger, shortened).
    closeTimer = setTimeout(() => { driver.stop(); if (udp) void udp.close(); else carrier?.close() }, L2TP_STOP_GRACE_MS)
    closeTimer.unref()
    o.onClosed(reason, message)
  }

  const sendFrame = (frame: Uint8Array): void => {
    if (sessionId === undefined) return
    const t = endpoint.encodeFrame(sessionId, frame)
    if (t) sock.send(t.to, t.data)
  }

  const onPpp = (ev: PppEvent): void => {
    switch (ev.type) {
      case 'authenticated': o.progress(`authenticated as ${o.user} (${ev.method})`); break
      case 'up': onUp(ev); break
      case 'ip': o.onIp(ev.packet); break
      case 'down': {
        downReason ??= { reason: ev.reason, message: ev.message }
        call?.stop()
        // PPP is over: clear the call (CDN) and the tunnel (StopCCN), one call per tunnel as Windows does.
        const sid = sessionId
        driver.run(() => { if (sid !== undefined) tunnel.closeSession(Date.now(), sid, ev.reason); tunnel.close(Date.now(), ev.reason) })
        finish(downReason.reason, downReason.message)
        break
      }
    }
  }

  const onEvent = (ev: L2tpTunnelEvent): void => {
    switch (ev.type) {
      case 'tunnelUp':
        o.progress(`L2TP tunnel up (${ev.peerVendorName ?? 'unknown vendor'}, ${ev.peerHostName}); placing the call`)
        break
      case 'sessionUp': {
        if (call) break // one call per dial
        sessionId = ev.sessionId
        const ppp = new PppSession({ role: 'client', rng: systemRng, user: o.user, password: o.password, mru: o.mru, mppe: o.mppe ?? CLIENT_MPPE_POLICY,
          ...(o.echoIntervalMs !== undefined ? { echoIntervalMs: o.echoIntervalMs } : {}), ...(o.echoFailures !== undefined ? { echoFailures: o.echoFailures } : {}) }, Date.now())
        call = new L2tpPppCall(ppp, sendFrame, onPpp, (fault) => {
          downReason ??= { reason: 'internal-error', message: String((fault as Error)?.message ?? fault) }
          driver.run(() => tunnel.close(Date.now(), 'internal-error'))
          finish(downReason.reason, downReason.message)
        })
        o.progress(`call established (session ${ev.sessionId}/${ev.peerSessionId}); negotiating PPP`)
        call.run(() => ppp.open(Date.now()))
        break
      }
      case 'sessionDown':
        // §6.4: the tunnel went down with the call; the 'closed' event that follows names why.
        if (ev.reason === 'tunnel-down') break
        if (ev.sessionId !== sessionId && call) break
        if (!call) {
          downReason ??= { reason: 'call-refused', message: ev.result ? `CDN result ${ev.result.result}${ev.result.message ? `: ${ev.result.message}` : ''}` : ev.reason }
          driver.run(() => tunnel.close(Date.now(), 'call-refused'))
          finish(downReason.reason, downReason.message)
          break
        }
        downReason ??= { reason: 'peer-cleared', message: `the gateway cleared the call (${ev.reason})` }
        call.run(() => call!.ppp.lowerDown(Date.now(), 'peer-cleared', ev.reason))
        break
      case 'closed': {
        const r = ev.reason === 'peer-silent' ? { reason: 'peer-silent', message: ev.message } : { reason: 'tunnel-closed', message: `${ev.reason}${ev.message && ev.message !== ev.reason ? `: ${ev.message}` : ''}` }
        downReason ??= r
        if (call && !call.isStopped) call.run(() => call!.ppp.lowerDown(Date.now(), downReason!.reason, downReason!.message))
        finish(downReason.reason, downReason.message)
        break
      }
    }
  }

  const endpoint = new L2tpLacEndpoint(tunnel, carrier?.peer ?? { address: peerIp, port: o.port }, (_sid, frame) => call?.handleFrame(frame))
  const driver: DatagramDriver<L2tpTunnelEvent> = new DatagramDriver(endpoint, sock, onEvent, (fault) => {
    call?.stop()
    finish('internal-error', String((fault as Error)?.message ?? fault))
  })
  driver.run(() => {
    if (tunnel.call(Date.now()) === undefined) throw new VpnError('ERR_INTERNAL', 'no L2TP Session ID free on a new tunnel')
  })

  return {
    peerIp,
    sendIp: (packet) => { if (!finished) call?.sendIp(packet) },
    sendMany: (packets) => { if (!finished && call) for (const p of packets) call.sendIp(p) },
    close: (reason, message) => {
      if (finished) return
      downReason ??= { reason, message }
      if (call && !call.isStopped && call.ppp.phase !== 'dead') {
        call.run(() => call!.ppp.close(Date.now(), reason, message))
        // A gateway that never answers the LCP Terminate must not hold the process.
        setTimeout(() => { if (!finished) { driver.run(() => tunnel.close(Date.now(), reason)); finish(reason, message) } }, 3000).unref()
      } else {
        driver.run(() => tunnel.close(Date.now(), reason))
        finish(reason, message)
      }
    },
    counters: () => ({ ...prefixCounters('l2tp', tunnel.counters.snapshot()), ...prefixCounters('l2tp.channel', tunnel.channelCounters()), ...(udp ? prefixCounters('udp', udp.counters.snapshot()) : carrier!.counters()), ...(call ? call.ppp.counters() : {}) }),
  }
}

/** The gateway's IPv4 address: HOST itself, or its DNS answer. */
export async function resolveGateway(host: string): Promise<string> {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return host
  try { return (await lookup(host, { family: 4 })).address } catch {
    throw new VpnError('ERR_CONNECT', `cannot resolve the gateway name "${host}": check the spelling and your DNS`)
  }
}

// One PPTP call's data path (RFC 2637 §4): the PPP session of the call carried in its enhanced GRE
// call. Joins a GreCall and a PppLink; sans-IO (GRE bytes and time in; GRE bytes, PPP events and a
// deadline out). Used by both roles: the gateway (PAC) and the client (PNS).
import type { Millis } from '../lib/time.js'
import type { PppEvent, PppLink } from '../ppp/types.js'
import type { GreCall } from './gre/call.js'

export class PptpDataCall {
  readonly gre: GreCall
  readonly ppp: PppLink
  private readonly out: Uint8Array[] = []
  private ended = false

  constructor(gre: GreCall, ppp: PppLink) {
    this.gre = gre
    this.ppp = ppp
  }

  /** The call is established (§3.2 'established'): start LCP. */
  open(now: Millis): void {
    this.ppp.open(now)
    this.pump()
  }

  /**
   * Call after the GreDemux handed this call's GreCall one or more packets: the in-order PPP frames
   * go to the PPP session. Its 'ip' events carry views valid until the next input; drain them first.
   */
  afterReceive(now: Millis): void {
    for (let f = this.gre.pollFrame(); f !== undefined; f = this.gre.pollFrame()) this.ppp.handleFrame(now, f)
    this.pump()
  }

  /** Encapsulates one IPv4 packet for the peer; false when it cannot go (IPCP/MPPE not up, or ended). */
  sendIp(packet: Uint8Array): boolean {
    if (this.ended) return false
    const frame = this.ppp.encodeIp(packet)
    if (frame === undefined) return false
    this.out.push(this.gre.sendFrame(frame))
    return true
  }

  handleTimeout(now: Millis): void {
    this.gre.handleTimeout(now) // may release frames held for reordering
    this.ppp.handleTimeout(now)
    this.afterReceive(now)
  }

  nextTimeout(): Millis | undefined {
    const a = this.ended ? undefined : this.gre.nextTimeout()
    const b = this.ppp.nextTimeout()
    return a === undefined ? b : b === undefined ? a : Math.min(a, b)
  }

  /**
   * The next GRE packet (data or ack-only) to send to the peer. Also frames what the PPP session
   * queued from a direct call (the gateway's `ppp.handleAuthResult`): without this the MS-CHAPv2
   * Success waited for the next PPP timer (the 3 s restart) whenever AAA took longer than the GRE ack delay.
   */
  pollDatagram(): Uint8Array | undefined {
    if (this.out.length === 0) this.pump()
    return this.out.shift()
  }

  pollEvent(): PppEvent | undefined { return this.ppp.pollEvent() }

  /** Administrative close: LCP Terminate-Request; a 'down' event follows. */
  close(now: Millis, reason: string, message: string): void {
    this.ppp.close(now, reason, message)
    this.pump()
  }

  /** The call is gone (Call-Clear, control connection lost): PPP goes down at once, GRE stops. */
  lowerDown(now: Millis, reason: string, message: string): void {
    this.ppp.lowerDown(now, reason, message)
    this.end()
  }

  /** Stops the GRE side (after PPP went down): later input is counted 'drop:closed'. */
  end(): void {
    if (this.ended) return
    this.pump()
    this.ended = true
    this.gre.close()
  }

  get isEnded(): boolean { return this.ended }

  counters(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const [k, v] of Object.entries(this.gre.counters())) out[`gre.${k}`] = v
    for (const [k, v] of Object.entries(this.ppp.counters())) out[`ppp.${k}`] = v
    return out
  }

  private pump(): void {
    if (this.ended) return
    for (let f = this.ppp.pollFrame(); f !== undefined; f = this.ppp.pollFrame()) this.out.push(this.gre.sendFrame(f))
    for (let p = this.gre.pollTransmit(); p !== undefined; p = this.gre.pollTransmit()) this.out.push(p)
  }
}

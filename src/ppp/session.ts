// One PPP link (RFC 1661 §3.2 phases: Dead, Establish, Authenticate, Network, Terminate): LCP,
// the authentication protocol, IPCP and IPv4 frames, sans-IO. Carriers (SSTP, PPTP, L2TP) own one.
// With `mppe` set (PPTP), CCP (RFC 1962) negotiates MPPE (RFC 3078) and IPv4 travels as protocol 0x00FD.
import type { Millis } from '../lib/time.js'
import { Counters } from '../lib/counters.js'
import { DecodeError } from '../lib/errors.js'
import { fromUtf8 } from '../lib/bytes.js'
import type { AuthVerdict } from '../auth/types.js'
import type { PppEvent, PppLink, PppOptions, PppPhase } from './types.js'
import type { AuthSideEvent, PppAuthCore } from './auth/types.js'
import { type PppAuthFactories, createAuthCore, defaultAuthFactories } from './auth-phase.js'
import { Fsm, type FsmOptions } from './fsm/fsm.js'
import { PppCode } from './fsm/packet.js'
import { LcpStrategy, protocolRejectData } from './lcp/lcp.js'
import { IpcpStrategy } from './ipcp/ipcp.js'
import { formatIpv4 } from './ipcp/options.js'
import { EchoKeepalive } from './lcp/echo.js'
import { CcpLayer } from './ccp/layer.js'
import { packetSlab } from './mppe/byte-slab.js'
import { type FrameCompression, NO_COMPRESSION, PppProtocol, decodeFrame, encodeFrame, encodeFrameHeaderInto, frameHeaderLength } from './frame.js'

export type { PppAuthFactories } from './auth-phase.js'

/** Whole establish + authenticate + IPCP negotiation must finish within this. */
export const NEGOTIATION_TIMEOUT_MS = 60_000
const AUTH_PROTOCOLS: ReadonlySet<number> = new Set([PppProtocol.PAP, PppProtocol.CHAP, PppProtocol.EAP])

/**
 * A PPP link (the PppLink contract in types.ts). `factories` defaults to src/ppp/auth/index.ts.
 * Peer frames never throw; every drop is counted by reason in counters().
 */
export class PppSession implements PppLink {
  private ph: PppPhase = 'dead'
  private ended = false
  private readonly opts: PppOptions
  private readonly factories: PppAuthFactories
  private readonly lcpS: LcpStrategy
  private readonly lcp: Fsm
  private readonly ipcpS: IpcpStrategy
  private readonly ipcp: Fsm
  private auth: PppAuthCore | undefined
  private verdictAddress: string | undefined
  private downReason: string | undefined
  private downMessage = ''
  private negotiationDeadline: Millis | undefined
  private readonly echo: EchoKeepalive
  private tx: FrameCompression = NO_COMPRESSION
  /** IPCP is Opened; traffic flows (ipOpen) once MPPE is also up when a policy asks for it. */
  private ipcpUpNow = false
  private ipOpen = false
  private readonly ccp: CcpLayer | undefined
  private ccpStarted = false
  /**
   * With MPPE required, IPCP starts only once CCP has installed the keys, as pppd does (it answers an
   * earlier IPCP Configure-Request with Terminate-Ack, costing a 3 s restart). A peer that starts IPCP
   * in parallel (Windows) has its latest Configure-Request held here and answered when IPCP starts.
   */
  private ipcpWaitsForCcp = false
  private earlyIpcp: Uint8Array | undefined
  private masterKey: Uint8Array | undefined
  private pendingClose: { reason: string; message: string } | undefined
  private readonly frames: Uint8Array[] = []
  private readonly events: PppEvent[] = []
  private readonly ctr = new Counters()

  constructor(opts: PppOptions, now: Millis, factories: PppAuthFactories = defaultAuthFactories) {
    this.opts = opts
    this.factories = factories
    void now
    this.echo = new EchoKeepalive(opts.echoIntervalMs ?? 10_000, opts.echoFailures ?? 3)
    const fsmOpts: FsmOptions = {
      restartMs: opts.restartMs ?? 3000, maxConfigure: opts.maxConfigure ?? 10,
      maxTerminate: opts.maxTerminate ?? 2, maxFailure: opts.maxFailure ?? 5,
      peerMru: () => this.lcpS.peerMru,
    }
    this.lcpS = new LcpStrategy({
      role: opts.role, rng: opts.rng, mru: opts.mru ?? 1400,
      authMethods: opts.role === 'server' ? opts.authMethods : [],
      acceptAuthMethods: opts.role === 'client' ? (opts.acceptAuthMethods ?? ['mschapv2', 'eap']) : [],
    }, {
      up: (t) => this.lcpUp(t),
      down: (t) => this.lcpDown(t),
      started: () => {},
      finished: (t) => {
        // A peer that sent Terminate-Request during negotiation (answered with sta, §4.1) is why we failed.
        const hint = this.downReason === undefined ? this.peerTerminateHint() : undefined
        this.end(t, this.downReason ?? hint?.reason ?? 'negotiation-failed', hint?.message ?? this.downMessage)
      },
      protocolRejected: (t, proto) => this.protocolRejected(t, proto),
      echoReply: (t) => this.echo.heard(t),
    })
    this.lcp = new Fsm(this.lcpS, fsmOpts)
    this.ipcpS = new IpcpStrategy(opts.role === 'server'
      ? { role: 'server', localAddress: opts.localAddress, dns: opts.dns ?? [], wins: opts.wins ?? [], peerAddress: () => this.verdictAddress }
      : { role: 'client' }, {
      up: (t) => this.ipcpUp(t),
      down: () => { this.ipOpen = false; this.ipcpUpNow = false },
      started: () => {},
      finished: (t) => { if (this.lcp.state === 'Opened') this.deferClose(this.ipcpS.failure ?? 'negotiation-failed', 'IPCP negotiation failed'); void t },
    })
    this.ipcp = new Fsm(this.ipcpS, fsmOpts)
    // No policy, no CCP: CCP from the peer then gets Protocol-Reject like any unknown protocol (SSTP).
    // A policy with no key strengths (L2TP inside IPsec: ESP protects PPP) runs no CCP at all: a peer's CCP
    // gets LCP Protocol-Reject (RFC 1661 §5.7) instead of an empty Configure-Request from us.
    this.ccp = opts.mppe && opts.mppe.keyBits.length > 0 ? new CcpLayer({ role: opts.role, policy: opts.mppe, fsm: fsmOpts }) : undefined
  }

  get phase(): PppPhase { return this.ph }

  open(now: Millis): void {
    if (this.ended || this.ph !== 'dead') return
    this.ph = 'establish'
    this.negotiationDeadline = now + NEGOTIATION_TIMEOUT_MS
    // The carrier is up and we want the link: Open then Up (RFC 1661 §4.1 Initial -> Starting -> Req-Sent).
    this.lcp.open(now)
    this.lcp.up(now)
    this.pump(now)
  }

  close(now: Millis, reason: string, message: string): void {
    if (this.ended) return
    this.closeLink(now, reason, message)
    this.pump(now)
    // Initial/Closed/Stopped + Close reach Closed without tlf (§4.1): nothing more will happen.
    const st = this.lcp.state
    if (st === 'Initial' || st === 'Closed') this.end(now, this.downReason ?? reason, this.downMessage)
  }

  lowerDown(now: Millis, reason: string, message: string): void {
    if (this.ended) return
    this.downReason ??= reason
    if (this.downReason === reason) this.downMessage = message
    this.lcp.down(now)
    this.end(now, this.downReason, this.downMessage)
  }

  handleFrame(now: Millis, frame: Uint8Array): void {
    if (this.ended) { this.ctr.inc('drop.ended'); return }
    this.ctr.inc('framesIn'); this.ctr.inc('bytesIn', frame.length)
    this.echo.heard(now)
    let f
    try { f = decodeFrame(frame) } catch (e) { if (!(e instanceof DecodeError)) throw e; this.ctr.inc('drop.malformed-frame'); return }
    const p = f.protocol
    if (p === PppProtocol.IPv4) {
      if (!this.ipOpen) { this.ctr.inc('drop.ip-not-open'); return }
      // RFC 3078 §1 / policy: once MPPE is required or up, a plaintext datagram is not accepted.
      if (this.ccp?.blocksPlaintext) { this.ctr.inc('drop.plaintext-with-mppe'); return }
      this.ctr.inc('ipPacketsIn')
      this.events.push({ type: 'ip', packet: f.info })
      return
    }
    const ccp = this.ccp
    if (ccp && p === PppProtocol.CompressedData) { this.encryptedIn(now, ccp, f.info); this.pump(now); return }
    if (p === PppProtocol.LCP) this.lcp.handlePacket(now, f.info)
    else if (AUTH_PROTOCOLS.has(p)) {
      // §3.5: authentication packets belong to the Authenticate phase (and answers to retransmissions after it).
      if (!this.auth || this.auth.protocol !== p || (this.ph !== 'authenticate' && this.ph !== 'network')) { this.ctr.inc('drop.auth-unexpected'); return }
      // Another engineer's core: contain a throw on hostile input rather than crash the carrier.
      try { this.auth.handlePacket(now, f.info) } catch { this.ctr.inc('drop.auth-core-error') }
    } else if (p === PppProtocol.IPCP) {
      // §3.4/3.5: NCP packets before the Network phase "MUST be silently discarded".
      if (this.ph !== 'network') { this.ctr.inc('drop.ncp-before-network'); return }
      if (this.ipcpWaitsForCcp) { this.earlyIpcp = f.info.slice(); this.ctr.inc('ipcp-held-for-ccp'); return }
      this.ipcp.handlePacket(now, f.info)
    } else if (ccp && p === PppProtocol.CCP) {
      // CCP is an NCP too (RFC 1962 §2): Network phase only.
      if (this.ph !== 'network') { this.ctr.inc('drop.ncp-before-network'); return }
      ccp.handleCcp(now, f.info)
    } else if (this.ph === 'network' && this.lcp.state === 'Opened') {
      // §5.7: an unsupported protocol is answered with Protocol-Reject, only in the Opened state.
      this.lcp.sendRaw(PppCode.ProtocolReject, protocolRejectData(p, f.info, this.lcpS.peerMru))
      this.ctr.inc('protocol-rejected')
    } else this.ctr.inc('drop.unknown-protocol')
    this.pump(now)
  }

  handleAuthResult(now: Millis, verdict: AuthVerdict): void {
    if (this.ended || this.opts.role !== 'server' || !this.auth) { this.ctr.inc('drop.verdict-unexpected'); return }
    if (verdict.ok && verdict.address !== undefined) this.verdictAddress = verdict.address
    this.auth.handleVerdict(now, verdict)
    this.pump(now)
  }

  encodeIp(packet: Uint8Array): Uint8Array | undefined {
    if (!this.ipOpen) return undefined
    // Only IPCP is negotiated: an IPv6 (or garbage) packet must not go out as protocol 0x0021.
    if (packet.length < 20 || packet[0]! >> 4 !== 4) { this.ctr.inc('drop.tx-not-ipv4'); return undefined }
    const c = this.tx
    const ccp = this.ccp
    if (ccp?.encrypting) return this.encryptIp(ccp, packet, c)
    if (ccp?.blocksPlaintext) { this.ctr.inc('drop.tx-mppe-not-up'); return undefined }
    const h = frameHeaderLength(PppProtocol.IPv4, c)
    const out = new Uint8Array(h + packet.length)
    encodeFrameHeaderInto(out, PppProtocol.IPv4, c)
    out.set(packet, h)
    this.ctr.inc('ipPacketsOut'); this.ctr.inc('framesOut'); this.ctr.inc('bytesOut', out.length)
    return out
  }

  handleTimeout(now: Millis): void {
    if (this.ended) return
    if (this.negotiationDeadline !== undefined && now >= this.negotiationDeadline) {
      this.negotiationDeadline = undefined
      this.closeLink(now, 'negotiation-timeout', 'PPP negotiation did not complete in time')
      this.pump(now)
      this.end(now, this.downReason ?? 'negotiation-timeout', this.downMessage)
      return
    }
    this.lcp.handleTimeout(now)
    this.ipcp.handleTimeout(now)
    this.auth?.handleTimeout(now)
    this.ccp?.handleTimeout(now)
    const echo = this.echo.handleTimeout(now)
    if (echo === 'dead') {
      this.downReason = 'echo-timeout'
      this.lowerDown(now, 'echo-timeout', `no answer to ${this.echo.pending} LCP Echo-Requests`)
      return
    }
    if (echo === 'send') {
      const m = this.lcpS.magic
      this.lcp.sendRaw(PppCode.EchoRequest, Uint8Array.of(m >>> 24, (m >>> 16) & 0xff, (m >>> 8) & 0xff, m & 0xff))
    }
    this.pump(now)
  }

  nextTimeout(): Millis | undefined {
    if (this.ended) return undefined
    let t: Millis | undefined
    for (const x of [this.lcp.nextTimeout(), this.ipcp.nextTimeout(), this.auth?.nextTimeout(), this.echo.nextTimeout(), this.ccp?.nextTimeout(), this.negotiationDeadline]) {
      if (x !== undefined && (t === undefined || x < t)) t = x
    }
    return t
  }

  pollFrame(): Uint8Array | undefined { return this.frames.shift() }
  pollEvent(): PppEvent | undefined { return this.events.shift() }

  counters(): Record<string, number> {
    const out: Record<string, number> = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, ipPacketsIn: 0, ipPacketsOut: 0, ...this.ctr.snapshot() }
    for (const [k, v] of Object.entries(this.lcp.counters.snapshot())) out[`lcp.${k}`] = v
    for (const [k, v] of Object.entries(this.ipcp.counters.snapshot())) out[`ipcp.${k}`] = v
    if (this.ccp) Object.assign(out, this.ccp.snapshot())
    return out
  }

  // ---- internals -------------------------------------------------------------------------

  /** Starts an orderly LCP close; 'down' follows when the Terminate exchange ends (tlf). */
  private closeLink(now: Millis, reason: string, message: string, wireMessage = message): void {
    if (this.downReason === undefined) { this.downReason = reason; this.downMessage = message }
    this.lcp.close(now, wireMessage)
  }

  /** 'peer-terminated' with the peer's printable reason text, if it sent a Terminate-Request. */
  private peerTerminateHint(): { reason: string; message: string } | undefined {
    const d = this.lcp.peerTerminateData
    if (d === undefined) return undefined
    return { reason: 'peer-terminated', message: d.length > 0 ? fromUtf8(d).replace(/[^\x20-\x7e]/g, '?').slice(0, 200) : 'peer sent Terminate-Request' }
  }

  /** Closes from inside an automaton callback: applied by pump() once the transition finished. */
  private deferClose(reason: string, message: string): void { this.pendingClose ??= { reason, message } }

  private end(now: Millis, reason: string, message: string): void {
    void now
    if (this.ended) return
    this.ended = true
    this.ph = 'dead'
    this.ipOpen = false
    this.ipcpUpNow = false
    this.auth = undefined
    this.stopCcp(now)
    this.echo.stop()
    this.negotiationDeadline = undefined
    this.events.push({ type: 'down', reason, message })
  }

  private lcpUp(now: Millis): void {
    this.echo.start(now)
    this.lcp.peerTerminateData = undefined // a new link: earlier Terminate-Requests are history
    // Header compression the peer asked for and we Acked (RFC 1661 §6.5, §6.6), fixed until renegotiation.
    this.tx = { acfc: this.lcpS.txAcfc, pfc: this.lcpS.txPfc }
    const o = this.opts
    const method = o.role === 'server' ? this.lcpS.authByUs : this.lcpS.authToPeer
    if (method === undefined) { this.startNetwork(now); return }
    this.ph = 'authenticate'
    try {
      this.auth = createAuthCore(o, method, this.factories)
    } catch (e) {
      // A method LCP agreed to but no core exists for (a configuration error): end cleanly.
      this.deferClose('auth-failed', `authentication method ${method} unavailable: ${e instanceof Error ? e.message : String(e)}`)
      return
    }
    this.auth.start(now)
  }

  private lcpDown(now: Millis): void {
    this.auth = undefined
    this.ipcpWaitsForCcp = false
    this.earlyIpcp = undefined
    this.echo.stop()
    this.tx = NO_COMPRESSION
    this.ipcp.down(now)
    this.stopCcp(now)
    const last = this.lcp.transitions[this.lcp.transitions.length - 1]
    if (last?.event === 'RTR' && this.downReason === undefined) {
      const h = this.peerTerminateHint()!
      this.downReason = h.reason
      this.downMessage = h.message
    }
    const st = this.lcp.state
    if (st === 'Closing' || st === 'Stopping') this.ph = 'terminate'
    else { this.ph = 'establish'; this.negotiationDeadline ??= now + NEGOTIATION_TIMEOUT_MS }
  }

  private startNetwork(now: Millis): void {
    this.ph = 'network'
    if (this.ccp?.policy.required) this.ipcpWaitsForCcp = true
    else this.startIpcp(now)
    if (this.ccp) {
      // RFC 3079 §3.4 MasterKey from MS-CHAPv2/EAP-MS-CHAPv2; PAP/CHAP give none (a required policy fails).
      // We never ask for PFC, so the peer's (inner) Protocol field is never compressed (RFC 1661 §6.5).
      this.ccp.start(now, this.masterKey, { peerCompressesProtocol: false })
      this.ccpStarted = true
      this.masterKey = undefined // the layer keeps its own copy
    }
  }

  private startIpcp(now: Millis): void {
    this.ipcpWaitsForCcp = false
    this.ipcp.open(now)
    this.ipcp.up(now)
    const early = this.earlyIpcp
    this.earlyIpcp = undefined
    if (early) this.ipcp.handlePacket(now, early)
  }

  private stopCcp(now: Millis): void {
    if (!this.ccp || !this.ccpStarted) return
    this.ccpStarted = false
    this.ccp.stop(now)
  }

  private ipcpUp(now: Millis): void {
    void now
    this.ipcpUpNow = true
    this.maybeUp()
  }

  /**
   * 'up' once IPCP is Opened and, with an MPPE policy, MPPE is installed (or, when MPPE is only
   * optional, CCP settled without it): a gateway must never route plaintext on a link requiring MPPE.
   */
  private maybeUp(): void {
    if (this.ipOpen || !this.ipcpUpNow || this.ended) return
    const ccp = this.ccp
    if (ccp && !ccp.encrypting) {
      const st = ccp.fsm.state
      if (ccp.policy.required || !(st === 'Opened' || st === 'Stopped' || st === 'Closed')) return
    }
    this.ipOpen = true
    this.negotiationDeadline = undefined
    const s = this.ipcpS
    const local = this.opts.role === 'server' ? this.opts.localAddress : formatIpv4(s.localAddress)
    this.events.push({ type: 'up', localAddress: local, peerAddress: formatIpv4(s.peerAddress), dns: s.dns, wins: s.wins })
  }

  private protocolRejected(now: Millis, proto: number): void {
    this.ctr.inc(`peer-protocol-reject.${proto.toString(16)}`)
    void now
    // Without IPCP there is nothing to carry: end the link (§5.7 "stop sending the offending packet type").
    if (proto === PppProtocol.CCP) this.ccp?.protocolRejected(now)
    else if (proto === PppProtocol.IPCP) this.deferClose('negotiation-failed', 'peer rejected IPCP')
    else if (this.auth && proto === this.auth.protocol) this.deferClose('auth-failed', 'peer rejected the authentication protocol')
  }

  /** Moves packets from LCP, IPCP and the auth core into frames, and auth events into session events. */
  private pump(now: Millis): void {
    for (let guard = 0; guard < 100; guard++) {
      let moved = false
      for (let p = this.lcp.pollPacket(); p; p = this.lcp.pollPacket()) { this.send(PppProtocol.LCP, p); moved = true }
      for (let p = this.ipcp.pollPacket(); p; p = this.ipcp.pollPacket()) { this.send(PppProtocol.IPCP, p); moved = true }
      const a = this.auth
      if (a) {
        for (let p = a.pollPacket(); p; p = a.pollPacket()) { this.send(a.protocol, p); moved = true }
        for (let e = a.pollEvent(); e; e = this.auth === a ? a.pollEvent() : undefined) { moved = true; this.authEvent(now, e) }
      }
      const ccp = this.ccp
      if (ccp) {
        for (let p = ccp.pollPacket(); p; p = ccp.pollPacket()) { this.send(PppProtocol.CCP, p); moved = true }
        const cf = ccp.pollFailure()
        if (cf) { this.deferClose(cf.reason, `MPPE negotiation failed: ${cf.reason}`); moved = true }
        if (this.ipcpWaitsForCcp && ccp.encrypting && this.ph === 'network') { this.startIpcp(now); moved = true }
        this.maybeUp()
      }
      const pc = this.pendingClose
      if (pc) { this.pendingClose = undefined; this.closeLink(now, pc.reason, pc.message); moved = true }
      const failure = this.lcpS.failure ?? this.ipcpS.failure
      if (failure && this.downReason === undefined) { this.closeLink(now, failure, `negotiation failed: ${failure}`); moved = true }
      if (!moved) return
    }
  }

  private authEvent(now: Millis, e: AuthSideEvent): void {
    switch (e.type) {
      case 'verify': this.events.push({ type: 'authRequest', proof: e.proof }); break
      case 'success':
        if (this.ph !== 'authenticate') break
        this.masterKey = e.keys?.masterKey
        this.events.push(e.keys ? { type: 'authenticated', user: e.user, method: e.method, keys: e.keys } : { type: 'authenticated', user: e.user, method: e.method })
        this.startNetwork(now)
        break
      case 'failure':
        this.ctr.inc(`auth-failure.${e.reason}`)
        // The detail stays in our 'down' event; the peer only learns that authentication failed.
        this.closeLink(now, 'auth-failed', e.message, 'Authentication failed')
        break
    }
  }

  /** A 0x00FD frame: decrypt (RFC 3078 §3) and dispatch the inner datagram; only IPv4 is carried. */
  private encryptedIn(now: Millis, ccp: CcpLayer, info: Uint8Array): void {
    if (this.ph !== 'network') { this.ctr.inc('drop.ncp-before-network'); return }
    // Slab region, not a reused buffer: the 'ip' event's view may sit in a TUN batch until its flush.
    const plain = ccp.decryptInto(now, info, packetSlab.take(info.length))
    if (plain === undefined) return // counted by the layer (mppe.*)
    if (plain.length < 2 || plain[0] !== 0x00 || plain[1] !== 0x21) { this.ctr.inc('drop.mppe-inner-protocol'); return }
    if (!this.ipOpen) { this.ctr.inc('drop.ip-not-open'); return }
    this.ctr.inc('ipPacketsIn')
    this.events.push({ type: 'ip', packet: plain.subarray(2) })
  }

  /** RFC 3078 §3: header(0x00FD) + 2 MPPE octets (coherency count) + encrypted [00 21 + datagram]. */
  private encryptIp(ccp: CcpLayer, packet: Uint8Array, c: FrameCompression): Uint8Array {
    const h = frameHeaderLength(PppProtocol.CompressedData, c)
    // A fresh slab region (encodeIp returns a new frame; the carrier may queue it).
    const out = packetSlab.take(h + 2 + 2 + packet.length)
    encodeFrameHeaderInto(out, PppProtocol.CompressedData, c)
    out[h + 2] = 0x00; out[h + 3] = 0x21
    out.set(packet, h + 4)
    // In place: the plaintext sits at its final offset, the encryptor writes the header before it.
    const info = ccp.encryptInto(out.subarray(h + 2), out.subarray(h))
    const frame = out.subarray(0, h + info.length)
    this.ctr.inc('ipPacketsOut'); this.ctr.inc('framesOut'); this.ctr.inc('bytesOut', frame.length)
    return frame
  }

  private send(protocol: number, info: Uint8Array): void {
    const frame = encodeFrame(protocol, info, this.tx) // encodeFrame itself never compresses LCP (§6.6)
    this.ctr.inc('framesOut'); this.ctr.inc('bytesOut', frame.length)
    this.frames.push(frame)
  }
}

// The CCP + MPPE unit a PppSession owns (RFC 1962, RFC 3078/3079): the CCP automaton, Reset-Request/
// Reset-Ack (RFC 1962 §2.1, codes 14/15), and the per-direction MPPE encryptor/decryptor keyed from the
// MS-CHAPv2 master key once CCP opens. Sans-IO: packets out via pollPacket, failure via pollFailure.
import type { Millis } from '../../lib/time.js'
import { Counters } from '../../lib/counters.js'
import { type Logger, nullLogger } from '../../lib/log.js'
import { mppeStartKeys } from '../../auth/mppe-keys.js'
import { Fsm, type FsmOptions } from '../fsm/fsm.js'
import { decodeControlPacket, encodeControlPacket } from '../fsm/packet.js'
import { CcpStrategy } from './ccp.js'
import { CcpCode } from './options.js'
import { DEFAULT_MPPE_POLICY, type MppePolicy } from './policy.js'
import type { MppeParams } from '../mppe/key-chain.js'
import { MppeEncryptor } from '../mppe/encryptor.js'
import { MppeDecryptor } from '../mppe/decryptor.js'

export interface CcpLayerOptions {
  readonly role: 'server' | 'client'
  readonly policy?: MppePolicy
  readonly fsm?: FsmOptions
  /** Reset-Request retransmission while still discarding (RFC 1962 §2.1 leaves it to us); default 1000. */
  readonly resetRetryMs?: number
  readonly logger?: Logger
}

/**
 * What PppSession does with it (only for carriers that negotiate MPPE, i.e. PPTP; SSTP has no CCP):
 * - construct one per session with `opts.mppe` (role + policy); startNetwork(): `start(now,
 *   authKeys?.masterKey)` next to IPCP's open/up; lcpDown()/end: `stop(now)`.
 * - handleFrame: 0x80FD -> `handleCcp` (network phase only, like IPCP); 0x00FD -> `decryptInto`, then
 *   dispatch the returned Protocol (0x0021 -> 'ip' event with a copy of bytes 2..); a plain 0x0021 while
 *   `blocksPlaintext` is dropped and counted; LCP Protocol-Reject of 0x80FD -> `protocolRejected`.
 * - encodeIp while `encrypting`: frame = PPP header(0x00FD) + 2 MPPE octets + [0x00 0x21] + packet; write
 *   the plaintext at its final offset and call encryptInto(plain, out.subarray(h)) (in place is allowed);
 *   before `encrypting` and while `blocksPlaintext`, send nothing.
 * - pump(): drain `pollPacket()` under 0x80FD; `pollFailure()` -> closeLink(reason) like LCP/IPCP
 *   failures. nextTimeout/handleTimeout join the session's; `snapshot()` joins its counters.
 */
export class CcpLayer {
  readonly counters = new Counters()
  readonly fsm: Fsm
  readonly policy: MppePolicy
  private readonly strategy: CcpStrategy
  private readonly role: 'server' | 'client'
  private readonly log: Logger
  private readonly resetRetryMs: number
  private readonly out: Uint8Array[] = []
  private masterKey: Uint8Array | undefined
  private peerPfc = false
  private enc: MppeEncryptor | undefined
  private dec: MppeDecryptor | undefined
  private agreed: MppeParams | undefined
  private failure: string | undefined
  private failureReported = false
  private renegotiatePending = false
  private renegotiations = 0
  private clock: Millis = 0
  private resetId = 0
  private resetPending = false // a Reset-Request awaits its Ack
  private resetTimer: Millis | undefined

  constructor(opts: CcpLayerOptions) {
    this.role = opts.role
    this.policy = opts.policy ?? DEFAULT_MPPE_POLICY
    this.log = opts.logger ?? nullLogger
    this.resetRetryMs = opts.resetRetryMs ?? 1000
    this.strategy = new CcpStrategy(this.policy, {
      up: (t, m) => this.opened(t, m),
      // Keys go with the Opened state; a renegotiation installs fresh ones at the next tlu.
      down: () => { this.agreed = undefined; this.uninstall() },
      finished: (t) => { if (this.policy.required && this.agreed === undefined) this.setFailure(t, 'mppe-required', 'CCP finished without MPPE') },
      failed: (t, reason, detail) => this.setFailure(t, reason, detail),
      renegotiate: () => { this.renegotiatePending = true },
    }, () => this.clock)
    this.fsm = new Fsm(this.strategy, { ...opts.fsm, ...(opts.logger ? { logger: opts.logger } : {}) })
  }

  /** True once MPPE keys are installed: every network-layer datagram goes through encryptInto. */
  get encrypting(): boolean { return this.enc !== undefined }
  /** While true the session must neither send nor accept unencrypted network-layer datagrams. */
  get blocksPlaintext(): boolean { return this.policy.required || this.enc !== undefined }
  get negotiated(): MppeParams | undefined { return this.agreed }
  get encryptor(): MppeEncryptor | undefined { return this.enc }
  get decryptor(): MppeDecryptor | undefined { return this.dec }

  /**
   * The network phase began. `masterKey` is the MS-CHAPv2 / EAP-MS-CHAPv2 MasterKey (RFC 3079 §3.4),
   * copied; undefined when authentication produced none (PAP, CHAP-MD5), which fails a required policy.
   * `peerCompressesProtocol`: LCP agreed Protocol-Field-Compression for frames the peer sends.
   */
  start(now: Millis, masterKey: Uint8Array | undefined, opts: { readonly peerCompressesProtocol?: boolean } = {}): void {
    this.clock = now
    this.peerPfc = opts.peerCompressesProtocol ?? false
    this.masterKey = masterKey?.slice()
    if (masterKey === undefined && this.policy.required) { this.setFailure(now, 'mppe-required', 'authentication produced no MPPE keys'); return }
    this.fsm.open(now)
    this.fsm.up(now)
  }

  /** The link is going down: CCP Down, keys wiped. */
  stop(now: Millis): void {
    this.clock = now
    this.fsm.down(now)
    this.uninstall()
    this.masterKey?.fill(0)
    this.masterKey = undefined
  }

  /** The peer Protocol-Rejected CCP (RFC 1661 §5.7): it has no MPPE. */
  protocolRejected(now: Millis): void {
    this.clock = now
    this.fsm.fire(now, 'RXJ-')
    if (this.policy.required) this.setFailure(now, 'mppe-required', 'peer rejected CCP')
  }

  /** One CCP packet (bytes after protocol 0x80FD). Never throws on peer input. */
  handleCcp(now: Millis, info: Uint8Array): void {
    this.clock = now
    const code = info[0]
    if (code !== CcpCode.ResetRequest && code !== CcpCode.ResetAck) {
      this.fsm.handlePacket(now, info)
      if (this.renegotiatePending) {
        this.renegotiatePending = false
        // Bounded: a peer that keeps flipping modes ends the link instead of looping.
        if (++this.renegotiations > 3) { this.setFailure(now, 'mppe-mismatch', 'MPPE mode keeps changing'); return }
        this.fsm.down(now)
        this.fsm.up(now)
      }
      return
    }
    let p
    try { p = decodeControlPacket(info) } catch { this.counters.inc('drop.malformed-reset'); return }
    // RFC 1962 §2.1: Reset packets are meaningful only in the Opened state.
    if (this.fsm.state !== 'Opened') { this.counters.inc('drop.reset-not-opened'); return }
    if (p.code === CcpCode.ResetRequest) {
      this.counters.inc('reset-request-received')
      this.enc?.resetRequested()
      // §2.1: the Reset-Ack's Identifier is copied from the Reset-Request.
      this.out.push(encodeControlPacket({ code: CcpCode.ResetAck, identifier: p.identifier, data: new Uint8Array(0) }))
    } else {
      if (!this.resetPending || p.identifier !== this.resetId) { this.counters.inc('drop.reset-ack-unexpected'); return }
      // The peer reset its encryptor; the timer keeps running, because the flushed packet that
      // follows may be lost too and then only another Reset-Request ends the discarding.
      this.resetPending = false
    }
  }

  /**
   * Encrypts `plain` (Protocol field + payload) into `out` (≥ plain.length + 2 bytes) as the
   * Information of a 0x00FD frame. Throws RangeError when not encrypting (a session bug).
   */
  encryptInto(plain: Uint8Array, out: Uint8Array): Uint8Array {
    if (!this.enc) throw new RangeError('MPPE is not up')
    return this.enc.encryptInto(plain, out)
  }

  /**
   * Decrypts a 0x00FD frame's Information into `out` (≥ data.length); returns Protocol (2 bytes) +
   * payload, or undefined when dropped (counted). May queue a Reset-Request. Never throws on peer input.
   */
  decryptInto(now: Millis, data: Uint8Array, out: Uint8Array): Uint8Array | undefined {
    this.clock = now
    if (!this.dec) { this.counters.inc('drop.mppe-not-up'); return undefined }
    const n = this.dec.decryptInto(data, out)
    if (this.dec.pollResetRequest(now)) this.sendResetRequest(now)
    return n < 0 ? undefined : out.subarray(0, n)
  }

  pollPacket(): Uint8Array | undefined { return this.out.shift() ?? this.fsm.pollPacket() }

  /** A reason ('mppe-required', 'mppe-mismatch') once, when the link must end. */
  pollFailure(): { reason: string } | undefined {
    if (this.failure === undefined || this.failureReported) return undefined
    this.failureReported = true
    return { reason: this.failure }
  }

  nextTimeout(): Millis | undefined {
    const a = this.fsm.nextTimeout(), b = this.resetTimer
    return a === undefined ? b : b === undefined ? a : Math.min(a, b)
  }

  handleTimeout(now: Millis): void {
    this.clock = now
    this.fsm.handleTimeout(now)
    if (this.resetTimer !== undefined && now >= this.resetTimer) {
      this.resetTimer = undefined
      // Repeat (Acked or not) only while the decryptor still waits for a flushed packet.
      if (this.dec?.discarding) this.sendResetRequest(now)
      else this.resetPending = false
    }
  }

  /** Counters of CCP, the layer and the decryptor, prefixed for the session's snapshot. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const [k, v] of Object.entries(this.fsm.counters.snapshot())) out[`ccp.${k}`] = v
    for (const [k, v] of Object.entries(this.counters.snapshot())) out[`ccp.${k}`] = v
    for (const [k, v] of Object.entries(this.dec?.counters.snapshot() ?? {})) out[`mppe.${k}`] = v
    return out
  }

  private sendResetRequest(now: Millis): void {
    this.resetId = (this.resetId + 1) & 0xff
    this.resetPending = true
    this.resetTimer = now + this.resetRetryMs
    this.counters.inc('reset-request-sent')
    this.out.push(encodeControlPacket({ code: CcpCode.ResetRequest, identifier: this.resetId, data: new Uint8Array(0) }))
  }

  private opened(now: Millis, m: MppeParams | undefined): void {
    this.agreed = m
    if (m === undefined || this.masterKey === undefined) {
      if (this.policy.required) this.setFailure(now, 'mppe-required', 'CCP opened without MPPE')
      return
    }
    const keys = mppeStartKeys(this.masterKey, m.bits, this.role === 'server')
    this.enc = new MppeEncryptor({ ...m, startKey: keys.send })
    this.dec = new MppeDecryptor({ ...m, startKey: keys.receive }, { compressedProtocol: this.peerPfc })
    keys.send.fill(0)
    keys.receive.fill(0)
    this.log.info('MPPE up', { bits: m.bits, mode: m.stateless ? 'stateless' : 'stateful' })
  }

  private uninstall(): void {
    this.enc?.close()
    this.dec?.close()
    this.enc = undefined
    this.dec = undefined
    this.resetPending = false
    this.resetTimer = undefined
  }

  private setFailure(now: Millis, reason: string, detail: string): void {
    if (this.failure !== undefined) return
    this.failure = reason
    this.log.warn('CCP/MPPE negotiation failed', { reason, detail, at: now })
  }
}

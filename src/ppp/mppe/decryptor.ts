// MPPE receiver (RFC 3078 §3, §7, §8): follows the sender's key changes from the coherency count;
// stateless keeps a small window of recent keys for reordered packets; stateful detects loss, asks
// for a CCP Reset-Request and discards until a flushed packet (§8.2).
import { Rc4 } from '../../crypto/legacy/rc4.js'
import { Counters } from '../../lib/counters.js'
import { KeyChain, type MppeDirectionKeys } from './key-chain.js'
import { COHERENCY_SPACE, MPPE_HEADER_LENGTH, MppeFlag } from './header.js'

/** Stateless: how far ahead a count may jump (each step is one SHA-1 + RC4 key change). */
const MAX_FORWARD = 1024
/** Stateless: how many earlier keys are kept for late (reordered) packets. */
const LATE_WINDOW = 16
/** Stateful: extra key changes tried at a flushed packet, for flushed packets lost in between. */
const MAX_EXTRA_CHANGES = 3
/**
 * Stateful: while discarding, a packet that arrives this long after our last Reset-Request asks
 * again. pppd repeats only on its 1 s timer, so a lost Request cost a second of traffic; the
 * sender answers several Requests before its next packet with one key change (RFC 3078 §8.2 via
 * RFC 1962 §2.1), and missed flushed packets are tried at resync (MAX_EXTRA_CHANGES).
 */
export const RESET_RESEND_MS = 100

/**
 * Decrypts incoming MPPE packets. Never throws on peer input: a dropped packet returns -1 and is
 * counted under `drop.<reason>`. In stateful mode `pollResetRequest()` says when to send a CCP
 * Reset-Request (§8.2: "the decryptor ... MUST transmit a CCP Reset-Request").
 */
export class MppeDecryptor {
  readonly counters = new Counters()
  private readonly chain: KeyChain
  private readonly rc4: Rc4
  private readonly stateless: boolean
  private cc = COHERENCY_SPACE - 1
  private discard = false
  private resetWanted = false
  /** When the last Reset-Request was handed out (pollResetRequest with a time), for the resend. */
  private lastResetAt: number | undefined
  /** A packet was discarded since the last Reset-Request was handed out. */
  private discardedSinceReset = false
  private closed = false
  // Stateless late-packet window: key and "already received" per recent count (slot = count % 16).
  private readonly lateKeys: Uint8Array[] = []
  private readonly lateCount = new Int16Array(LATE_WINDOW).fill(-1)
  private readonly lateSeen = new Uint8Array(LATE_WINDOW)
  private readonly scratch: Uint8Array[] = []

  private readonly pfc: boolean

  /**
   * `opts.compressedProtocol`: accept a 1-byte Protocol field inside the ciphertext (only when LCP
   * agreed Protocol-Field-Compression for what the peer sends; otherwise an odd first byte is a wrong key).
   */
  constructor(keys: MppeDirectionKeys, opts: { readonly compressedProtocol?: boolean } = {}) {
    this.pfc = opts.compressedProtocol ?? false
    this.chain = new KeyChain(keys)
    this.stateless = keys.stateless
    this.rc4 = new Rc4(this.chain.key)
    for (let i = 0; i < LATE_WINDOW; i++) { this.lateKeys.push(new Uint8Array(this.chain.key.length)); this.scratch.push(new Uint8Array(this.chain.key.length)) }
  }

  /** True while stateful mode waits for a flushed packet after loss. */
  get discarding(): boolean { return this.discard }
  get keyChanges(): number { return this.chain.changes }
  /** Coherency count of the last packet accepted. */
  get coherencyCount(): number { return this.cc }

  /**
   * True when a CCP Reset-Request should go out now (RFC 3078 §8.2): once on entering the discard
   * state and, given `now`, again when packets keep arriving while still discarding at least
   * RESET_RESEND_MS after the last one (the Request or its flushed answer was lost). Call after
   * each decryptInto.
   */
  pollResetRequest(now?: number): boolean {
    if (this.resetWanted) {
      this.resetWanted = false
      this.discardedSinceReset = false
      this.lastResetAt = now
      return true
    }
    if (now === undefined || !this.discard || !this.discardedSinceReset) return false
    if (this.lastResetAt !== undefined && now - this.lastResetAt < RESET_RESEND_MS) return false
    this.discardedSinceReset = false
    this.lastResetAt = now
    this.counters.inc('reset-resend')
    return true
  }

  /**
   * Decrypts one MPPE packet (`data` = header + ciphertext, the bytes after protocol 0x00FD) into
   * `out`, which must hold data.length bytes and not overlap `data`. Writes the 2-byte PPP Protocol
   * (a 1-byte compressed one is expanded) then the payload; returns the length written, or -1 (dropped).
   */
  decryptInto(data: Uint8Array, out: Uint8Array): number {
    if (this.closed) { this.counters.inc('drop.closed'); return -1 }
    if (data.length < MPPE_HEADER_LENGTH + 2) return this.drop('short')
    if (out.length < data.length) throw new RangeError(`MPPE output buffer of ${out.length} bytes, need ${data.length}`)
    const flags = data[0]! & 0xf0
    const cc = ((data[0]! & 0x0f) << 8) | data[1]!
    const flushed = (flags & MppeFlag.Flushed) !== 0
    // §3: D "MUST be set"; C set would mean MPPC, which we never negotiate.
    if ((flags & MppeFlag.Encrypted) === 0) return this.drop('not-encrypted')
    if ((flags & (MppeFlag.Compressed | MppeFlag.AtFront)) !== 0) return this.drop('compressed')
    const body = data.subarray(MPPE_HEADER_LENGTH)
    return this.stateless ? this.stateless1(cc, flushed, body, out) : this.stateful1(cc, flushed, body, out)
  }

  private stateless1(cc: number, flushed: boolean, body: Uint8Array, out: Uint8Array): number {
    // §7.1: every stateless packet is flushed (the sender changed the key for it).
    if (!flushed) return this.drop('stateless-not-flushed')
    const ahead = (cc - this.cc + COHERENCY_SPACE) % COHERENCY_SPACE
    if (ahead === 0) return this.drop('duplicate')
    if (ahead <= MAX_FORWARD) {
      // Tentative: MPPE has no integrity check, so a forged count must not drag the key sequence
      // forward. Keys for the skipped counts go to scratch slots and are kept only if this decrypts.
      this.chain.mark()
      for (let i = 0; i < ahead; i++) {
        const k = this.chain.step()
        if (ahead - i <= LATE_WINDOW) this.scratch[(this.cc + 1 + i) % LATE_WINDOW]!.set(k)
      }
      this.rc4.rekey(this.chain.key)
      const n = this.decrypt(body, out)
      if (n < 0) { this.chain.rollback(); return this.drop('bad-protocol') }
      for (let i = Math.max(0, ahead - LATE_WINDOW); i < ahead; i++) {
        const c = (this.cc + 1 + i) % COHERENCY_SPACE
        const slot = c % LATE_WINDOW
        this.lateKeys[slot]!.set(this.scratch[slot]!)
        this.lateCount[slot] = c
        this.lateSeen[slot] = 0
      }
      this.cc = cc
      if (ahead > 1) this.counters.inc('gap', ahead - 1)
      this.lateSeen[cc % LATE_WINDOW] = 1
      return n
    }
    // Behind: a reordered packet whose key is still in the window, unless already received.
    const slot = cc % LATE_WINDOW
    if (this.lateCount[slot] !== cc) return this.drop('too-late')
    if (this.lateSeen[slot] === 1) return this.drop('duplicate')
    this.lateSeen[slot] = 1
    this.rc4.rekey(this.lateKeys[slot]!)
    this.counters.inc('reordered')
    return this.finish(body, out, 'bad-protocol')
  }

  private stateful1(cc: number, flushed: boolean, body: Uint8Array, out: Uint8Array): number {
    const ahead = (cc - this.cc + COHERENCY_SPACE) % COHERENCY_SPACE
    // §7.2: the packet whose count ends in 0xFF changes the key and MUST be flushed.
    if ((cc & 0xff) === 0xff && !flushed) return this.lose('flag-not-flushed')
    if (!this.discard && ahead === 1) {
      if (flushed) { this.chain.mark(); this.chain.step(); this.rc4.rekey(this.chain.key) }
      const n = this.decrypt(body, out)
      if (n < 0) {
        // A forged flushed packet must not cost a key change; the stream itself is lost either way.
        if (flushed) this.chain.rollback()
        return this.lose('bad-protocol')
      }
      this.cc = cc
      return n
    }
    if (ahead === 0 || ahead > COHERENCY_SPACE / 2) return this.drop('late-or-duplicate')
    // Loss (or reordering) detected. §8.2: without the flushed bit we cannot decrypt: discard and
    // ask the sender to flush. A flushed packet resynchronises at once.
    if (!flushed) {
      if (!this.discard) this.counters.inc('gap')
      return this.lose(this.discard ? 'discarding' : 'gap')
    }
    // Key changes the sender made that we missed: one per flag packet strictly between, plus this one.
    const toNextFlag = ((0xff - (this.cc & 0xff)) & 0xff) || 256
    const missedFlags = toNextFlag < ahead ? 1 + Math.floor((ahead - 1 - toNextFlag) / 256) : 0
    this.chain.mark()
    for (let i = 0; i <= missedFlags; i++) this.chain.step()
    // Flushed packets sent in answer to earlier Reset-Requests may have been lost as well; each
    // changed the key once. The decrypted Protocol field tells a right key from a wrong one.
    for (let extra = 0; extra <= MAX_EXTRA_CHANGES; extra++) {
      if (extra > 0) this.chain.step()
      this.rc4.rekey(this.chain.key)
      const n = this.decrypt(body, out)
      if (n >= 0 && plausibleGuess(out, n)) {
        this.cc = cc
        this.discard = false
        this.counters.inc('resync')
        return n
      }
    }
    this.chain.rollback()
    return this.lose('resync-failed')
  }

  /** Enters the discard state (stateful) and asks for one Reset-Request on entry. */
  private lose(reason: string): number {
    if (!this.discard) { this.discard = true; this.resetWanted = true } else this.discardedSinceReset = true
    return this.drop(reason)
  }

  private finish(body: Uint8Array, out: Uint8Array, reason: string): number {
    const n = this.decrypt(body, out)
    return n < 0 ? this.drop(reason) : n
  }

  /**
   * RC4 over body; validates the Protocol field (RFC 1661 §2: low octet odd, high octet even).
   * The first plaintext octet alone tells a compressed Protocol field, so it is decrypted first and
   * the rest goes straight to its final offset (no second pass over the packet).
   */
  private decrypt(body: Uint8Array, out: Uint8Array): number {
    const rc4 = this.rc4
    const b0 = rc4.processByte(body[0]!)
    let proto: number
    let n: number
    if (this.pfc && (b0 & 0x01) === 1) {
      // A compressed (1-byte, RFC 1661 §6.5) Protocol field: expand it.
      out[0] = 0
      out[1] = b0
      rc4.process(body.subarray(1), out.subarray(2))
      proto = b0
      n = body.length + 1
    } else {
      out[0] = b0
      rc4.process(body.subarray(1), out.subarray(1))
      proto = (b0 << 8) | out[1]!
      n = body.length
    }
    // MPPE carries network-layer datagrams only: 0x0021..0x00FA (what the Linux sender encrypts).
    if (n < 2 || proto < 0x0021 || proto > 0x00fa || (proto & 1) === 0) return -1
    return n
  }

  private drop(reason: string): number { this.counters.inc(`drop.${reason}`); return -1 }

  /** Zeroes keys and RC4 state; later packets are dropped. */
  close(): void {
    this.closed = true
    this.chain.wipe()
    this.rc4.wipe()
    for (const k of this.lateKeys) k.fill(0)
    for (const k of this.scratch) k.fill(0)
  }
}

/**
 * A resynchronising key is a guess (MPPE has no integrity check): a wrong key passes the Protocol
 * test about once in 600 tries, and a stateful link under loss tries several keys per gap; a wrong
 * guess desynchronises the stream and hands garbage up. A guess therefore counts only when it
 * decrypts to an IP datagram header: Protocol 0x0021 with version 4 and IHL >= 5 (RFC 791 §3.1),
 * or 0x0057 with version 6 (RFC 8200 §3). Other network protocols resynchronise at the next
 * flushed IP packet instead.
 */
function plausibleGuess(out: Uint8Array, n: number): boolean {
  if (n < 3 || out[0] !== 0x00) return false
  const v = out[2]!
  if (out[1] === 0x21) return (v & 0xf0) === 0x40 && (v & 0x0f) >= 5
  return out[1] === 0x57 && (v & 0xf0) === 0x60
}

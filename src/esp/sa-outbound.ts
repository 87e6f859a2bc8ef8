// Outbound ESP SA, RFC 4303 §3.3: sequence number generation (§3.3.3, never cycling), explicit
// IVs (RFC 3602 §3 random per packet; RFC 4106 §3.1 unique per key), packet sealing into caller
// buffers, byte lifetime, and key zeroing on close.
import type { Rng } from '../crypto/rng.js'
import { Counters } from '../lib/counters.js'
import { ESP_SEQ_MAX, ByteLifetime } from './sa-common.js'
import type { EspSaEvent, EspSaOptions } from './sa-common.js'
import { EspTransform } from './transform.js'
import { writeU32 } from './packet.js'

export interface EspOutboundOptions extends EspSaOptions {
  /** Source of the random CBC IVs (unused by AES-GCM, whose IV is a counter). */
  readonly rng: Rng
  /** After sending this sequence number a 'soft-limit' {reason:'sequence'} event is raised. */
  readonly softSequenceLimit?: number
}

/** Default soft limit: 2^24 packets before the sequence space ends (minutes at line rate). */
export const ESP_SOFT_SEQUENCE_DEFAULT = ESP_SEQ_MAX - 0x1000000
/** Random IV bytes fetched from the Rng at once (one call per ~256 AES packets). */
const IV_POOL_BYTES = 4096

/**
 * Seals outgoing packets for one SA. Never throws on traffic; refused sends return 0 and are
 * counted: 'tx:drop:closed', 'tx:drop:sequence-exhausted', 'tx:drop:lifetime'. Throws
 * RangeError only for caller bugs (short buffer, bad keys at construction).
 */
export class EspOutboundSa {
  readonly spi: number
  private readonly transform: EspTransform
  private readonly rng: Rng
  private readonly softSeq: number
  private readonly lifetime: ByteLifetime
  private readonly stats = new Counters()
  private readonly events: EspSaEvent[] = []
  private readonly gcmIv = new Uint8Array(8)
  private ivPool: Uint8Array = new Uint8Array(0)
  private ivPos = 0
  /** §3.3.3: "The sender's counter is initialized to 0 when an SA is established". */
  private seq = 0
  private closed = false
  // Per-packet counters as plain numbers (the hot path); drops go to `stats` by reason.
  private txPackets = 0
  private txBytes = 0

  constructor(opts: EspOutboundOptions) {
    if (!Number.isInteger(opts.spi) || opts.spi < 0 || opts.spi > 0xffffffff) throw new RangeError(`SPI ${opts.spi} is not a 32-bit value`)
    this.spi = opts.spi
    this.transform = new EspTransform(opts.encryption, opts.integrity, opts.keys)
    this.rng = opts.rng
    this.softSeq = opts.softSequenceLimit ?? ESP_SOFT_SEQUENCE_DEFAULT
    this.lifetime = new ByteLifetime(opts.lifetime)
  }

  /** The last sequence number sent (0 before the first packet). */
  get sequenceNumber(): number { return this.seq }
  get isClosed(): boolean { return this.closed }
  /** Bytes of the ESP packet for a payload of this length (size `out` with it). */
  sealedLength(payloadLength: number): number { return this.transform.sealedLength(payloadLength) }
  /** The largest payload whose ESP packet fits in packetLength bytes (inner MTU). */
  maxPayloadLength(packetLength: number): number { return this.transform.maxPayloadLength(packetLength) }

  /**
   * Seals `payload` (an inner IPv4 packet with nextHeader 4 in tunnel mode, a UDP datagram with 17
   * in transport mode) into out[offset..] and returns the ESP packet length, or 0 when the SA
   * refuses to send (counted). `payload` may already sit at out[offset + 8 + ivLength].
   */
  encryptInto(payload: Uint8Array, nextHeader: number, out: Uint8Array, offset = 0): number {
    if (this.closed) { this.stats.inc('tx:drop:closed'); return 0 }
    // §3.3.3: "the sender MUST NOT send a packet on an SA if doing so would cause the sequence
    // number to cycle. An attempt to transmit a packet that would result in sequence number
    // overflow is an auditable event."
    if (this.seq === ESP_SEQ_MAX) { this.stats.inc('tx:drop:sequence-exhausted'); return 0 }
    if (this.lifetime.expired) { this.stats.inc('tx:drop:lifetime'); return 0 }
    const seq = this.seq + 1
    const n = this.transform.seal(this.spi, seq, undefined, this.nextIv(seq), payload, nextHeader, out, offset)
    this.seq = seq
    this.txPackets++
    this.txBytes += n
    if (seq === this.softSeq) this.events.push({ type: 'soft-limit', spi: this.spi, direction: 'outbound', reason: 'sequence' })
    if (seq === ESP_SEQ_MAX) this.events.push({ type: 'hard-limit', spi: this.spi, direction: 'outbound', reason: 'sequence' })
    this.lifetime.add(payload.length, this.spi, 'outbound', this.events)
    return n
  }

  /** As encryptInto into a fresh buffer; undefined when refused. */
  encrypt(payload: Uint8Array, nextHeader: number): Uint8Array | undefined {
    const out = new Uint8Array(this.transform.sealedLength(payload.length))
    return this.encryptInto(payload, nextHeader, out) === 0 ? undefined : out
  }

  pollEvent(): EspSaEvent | undefined { return this.events.shift() }
  /** 'tx:packets', 'tx:bytes' (ESP packet bytes) and the drop reasons. */
  counters(): Record<string, number> { return { 'tx:packets': this.txPackets, 'tx:bytes': this.txBytes, ...this.stats.snapshot() } }

  /** Ends the SA: zeroes the keys and the unused random IV bytes. Idempotent. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.transform.zero()
    this.ivPool.fill(0)
  }

  private nextIv(seq: number): Uint8Array {
    if (this.transform.encryption.aead) {
      // RFC 4106 §3.1: "the same IV value is used only once for a given key"; the sequence number
      // never repeats within an SA (§3.3.3), so it is the IV (as Linux's seqiv and strongSwan do).
      writeU32(this.gcmIv, 0, 0)
      writeU32(this.gcmIv, 4, seq)
      return this.gcmIv
    }
    // RFC 3602 §3: "The IV MUST be chosen at random, and MUST be unpredictable."
    const n = this.transform.ivLength
    if (this.ivPos + n > this.ivPool.length) {
      this.ivPool.fill(0)
      this.ivPool = this.rng.bytes(IV_POOL_BYTES)
      this.ivPos = 0
    }
    const iv = this.ivPool.subarray(this.ivPos, this.ivPos + n)
    this.ivPos += n
    return iv
  }
}

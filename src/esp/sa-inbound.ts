// Inbound ESP SA, RFC 4303 §3.4: SPI check (§3.4.2), anti-replay pre-check (§3.4.3), ICV check
// and decryption (§3.4.4), window update only after the ICV verified, trailer and padding checks
// (§2.4-2.6), dummy packets (§2.6), the caller's selector check, byte lifetime, key zeroing.
import { Counters } from '../lib/counters.js'
import { ESP_HEADER_LENGTH, EspNextHeader, parseEspTrailer, readU32 } from './packet.js'
import { REPLAY_WINDOW_DEFAULT, ReplayVerdict, ReplayWindow } from './replay-window.js'
import { ByteLifetime } from './sa-common.js'
import type { EspSaEvent, EspSaOptions } from './sa-common.js'
import { EspTransform } from './transform.js'

/**
 * The post-decryption check of RFC 4301 §5.2 (step 4: the inner packet is compared with the SA's
 * traffic selectors and discarded when it does not match): true keeps the packet, false drops
 * it ('drop:selector'). The IKE side knows the selectors; tunnel.ts reads the inner IPv4 header.
 */
export type EspSelectorCheck = (nextHeader: number, payload: Uint8Array) => boolean

export interface EspInboundOptions extends EspSaOptions {
  /** Anti-replay window in packets, a multiple of 32 in [32, 4096] (default 64); 0 turns anti-replay off. */
  readonly replayWindow?: number
  /** Check that Padding is 1, 2, 3, ... (§2.4 "the receiver SHOULD inspect the Padding field"); default true. */
  readonly checkPadding?: boolean
  readonly selectorCheck?: EspSelectorCheck
}

/** One accepted packet. `payload` is a view into a buffer owned by the caller from now on. */
export interface EspReceived {
  readonly nextHeader: number
  readonly payload: Uint8Array
  readonly sequenceNumber: number
}

/**
 * Opens incoming packets for one SA. Never throws on peer bytes: every refusal returns
 * undefined (or -1 from decryptInto) and is counted by reason — 'drop:too-short', 'drop:spi',
 * 'drop:replay:duplicate' / 'drop:replay:too-old' / 'drop:replay:zero', 'drop:length' (bad
 * ciphertext length), 'drop:icv', 'drop:pad-length', 'drop:padding', 'drop:dummy',
 * 'drop:selector', 'drop:lifetime', 'drop:closed'.
 */
export class EspInboundSa {
  readonly spi: number
  private readonly transform: EspTransform
  private readonly window: ReplayWindow | undefined
  private readonly checkPadding: boolean
  private readonly selectorCheck: EspSelectorCheck | undefined
  private readonly lifetime: ByteLifetime
  private readonly stats = new Counters()
  private readonly events: EspSaEvent[] = []
  private closed = false
  private rxPackets = 0
  private rxBytes = 0
  /** Next Header of the last packet decryptInto accepted. */
  lastNextHeader = 0
  /** Sequence number of the last packet accepted. */
  lastSequenceNumber = 0

  /** Throws RangeError for bad keys, SPI or window size (caller bugs). */
  constructor(opts: EspInboundOptions) {
    if (!Number.isInteger(opts.spi) || opts.spi < 0 || opts.spi > 0xffffffff) throw new RangeError(`SPI ${opts.spi} is not a 32-bit value`)
    this.spi = opts.spi
    this.transform = new EspTransform(opts.encryption, opts.integrity, opts.keys)
    const w = opts.replayWindow ?? REPLAY_WINDOW_DEFAULT
    this.window = w === 0 ? undefined : new ReplayWindow(w)
    this.checkPadding = opts.checkPadding ?? true
    this.selectorCheck = opts.selectorCheck
    this.lifetime = new ByteLifetime(opts.lifetime)
  }

  get isClosed(): boolean { return this.closed }
  /** Highest sequence number accepted (0 before the first, or when anti-replay is off). */
  get highestSequenceNumber(): number { return this.window?.highest ?? 0 }

  /** Verifies and decrypts one ESP packet (from the SPI to the ICV). */
  decrypt(packet: Uint8Array): EspReceived | undefined {
    const plain = this.open(packet)
    if (plain === undefined) return undefined
    return { nextHeader: this.lastNextHeader, payload: plain, sequenceNumber: this.lastSequenceNumber }
  }

  /**
   * As decrypt, copying the payload to out[offset..]; returns its length, or -1 when the packet
   * was dropped. The Next Header is then in lastNextHeader. Throws RangeError if `out` is too
   * small for an accepted payload (size it for the largest packet the link carries).
   */
  decryptInto(packet: Uint8Array, out: Uint8Array, offset = 0): number {
    const plain = this.open(packet)
    if (plain === undefined) return -1
    if (out.length - offset < plain.length) throw new RangeError(`ESP payload of ${plain.length} bytes does not fit at ${offset} of ${out.length}`)
    out.set(plain, offset)
    return plain.length
  }

  pollEvent(): EspSaEvent | undefined { return this.events.shift() }
  /** 'rx:packets', 'rx:bytes' (ESP packet bytes accepted) and the drop reasons. */
  counters(): Record<string, number> { return { 'rx:packets': this.rxPackets, 'rx:bytes': this.rxBytes, ...this.stats.snapshot() } }

  /** Ends the SA: zeroes the keys; later packets count 'drop:closed'. Idempotent. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.transform.zero()
  }

  /** The shared receive path: returns the payload view or undefined (counted). */
  private open(packet: Uint8Array): Uint8Array | undefined {
    if (this.closed) return this.drop('drop:closed')
    if (packet.length < ESP_HEADER_LENGTH) return this.drop('drop:too-short')
    // §3.4.2: the SA is found by SPI; a demux normally did that, this guards direct use.
    if (readU32(packet, 0) !== this.spi) return this.drop('drop:spi')
    const seq = readU32(packet, 4)
    // §3.4.3: the preliminary check "is performed prior to integrity checking and decryption. If
    // this preliminary check fails, the packet is discarded"; "This SHOULD be the first ESP check
    // applied to a packet after it has been matched to an SA".
    if (this.window) {
      const v = this.window.check(seq)
      if (v !== ReplayVerdict.ok) return this.drop(`drop:replay:${v}`)
    }
    if (this.lifetime.expired) return this.drop('drop:lifetime')
    const r = this.transform.open(packet, undefined)
    if (typeof r === 'string') return this.drop(`drop:${r}`)
    // Authentic: §3.4.3 "The receive window is updated only if the integrity verification succeeds."
    this.window?.accept(seq)
    const payloadLength = parseEspTrailer(r, this.checkPadding)
    if (typeof payloadLength === 'string') return this.drop(`drop:${payloadLength}`)
    const nextHeader = r[r.length - 1]!
    // §2.6: a dummy packet (Next Header 59) — "the receiver MUST be prepared to discard such
    // packets, without indicating an error".
    if (nextHeader === EspNextHeader.NoNextHeader) return this.drop('drop:dummy')
    const payload = r.subarray(0, payloadLength)
    if (this.selectorCheck && !this.selectorCheck(nextHeader, payload)) return this.drop('drop:selector')
    this.lastNextHeader = nextHeader
    this.lastSequenceNumber = seq
    this.rxPackets++
    this.rxBytes += packet.length
    this.lifetime.add(payloadLength, this.spi, 'inbound', this.events)
    return payload
  }

  private drop(reason: string): undefined {
    this.stats.inc(reason)
    return undefined
  }
}

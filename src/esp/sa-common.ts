// What the inbound and outbound ESP SAs share: their options, lifetime limits and the events they
// raise for IKE (RFC 4303 §3.3.3 sequence exhaustion; RFC 2407 §4.5 SA Life Type kilobytes).
import type { EspEncryptionAlgorithm, EspIntegrityAlgorithm, EspKeys } from './algorithms.js'

/** Byte limits over Payload Data (IKEv1 "SA Life Type: kilobytes", RFC 2407 §4.5). */
export interface EspByteLifetime {
  /** Raise a 'soft-limit' event (IKE starts a rekey) once this many bytes passed. */
  readonly softBytes?: number
  /** Raise 'hard-limit' and refuse every later packet once this many bytes passed. */
  readonly hardBytes?: number
}

export interface EspSaOptions {
  /** The SPI in the packets of this direction: ours for inbound, the peer's for outbound. */
  readonly spi: number
  readonly encryption: EspEncryptionAlgorithm
  /** Absent exactly when `encryption` is combined-mode (AES-GCM). */
  readonly integrity?: EspIntegrityAlgorithm
  /** Copied; the caller should zero its own copy. */
  readonly keys: EspKeys
  readonly lifetime?: EspByteLifetime
}

export type EspDirection = 'inbound' | 'outbound'
export type EspLimitReason = 'sequence' | 'bytes'

/**
 * Events for the IKE core that owns the SA. 'soft-limit': negotiate a replacement now.
 * 'hard-limit': this SA carries nothing more (outbound sequence numbers are used up, §3.3.3
 * "the sender MUST NOT send a packet on an SA if doing so would cause the sequence number to
 * cycle", or the byte lifetime ran out). Each is raised once per SA and reason.
 */
export type EspSaEvent =
  | { readonly type: 'soft-limit'; readonly spi: number; readonly direction: EspDirection; readonly reason: EspLimitReason }
  | { readonly type: 'hard-limit'; readonly spi: number; readonly direction: EspDirection; readonly reason: EspLimitReason }

/** Largest sequence number with 32-bit sequence numbers. */
export const ESP_SEQ_MAX = 0xffffffff

/** Counts Payload Data bytes against an EspByteLifetime and queues its events once each. */
export class ByteLifetime {
  private bytes = 0
  private softDone = false
  private hardDone = false
  private readonly soft: number
  private readonly hard: number
  constructor(limits: EspByteLifetime | undefined) {
    this.soft = limits?.softBytes ?? Infinity
    this.hard = limits?.hardBytes ?? Infinity
  }
  get expired(): boolean { return this.hardDone }
  get total(): number { return this.bytes }
  /** Adds n bytes; pushes the events that became due. */
  add(n: number, spi: number, direction: EspDirection, events: EspSaEvent[]): void {
    this.bytes += n
    if (!this.softDone && this.bytes >= this.soft) { this.softDone = true; events.push({ type: 'soft-limit', spi, direction, reason: 'bytes' }) }
    if (!this.hardDone && this.bytes >= this.hard) { this.hardDone = true; events.push({ type: 'hard-limit', spi, direction, reason: 'bytes' }) }
  }
}

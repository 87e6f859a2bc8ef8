// ESP per-packet cryptography (RFC 4303 §3.3.2 encryption + ICV, §3.4.4 ICV check + decryption):
// AES-CBC / 3DES-CBC with an HMAC (RFC 3602 §3, RFC 2451, RFC 2404, RFC 4868) and AES-GCM
// (RFC 4106 §3-5). Stateless apart from the keys and, for AES-CBC, one long-lived cipher context
// per direction (cbc-context.ts); sequence numbers and IVs come from the SA.
import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto'
import { checkPairing } from './algorithms.js'
import { CbcOpenContext, CbcSealContext, isAesCbc } from './cbc-context.js'
import type { EspEncryptionAlgorithm, EspIntegrityAlgorithm, EspKeys } from './algorithms.js'
import { ESP_HEADER_LENGTH, ESP_TRAILER_LENGTH, encodeEspHeaderInto, espPadLength, writeEspTrailer, writeU32 } from './packet.js'

/** Why open() refused a packet (stable strings for counters). */
export const EspOpenFault = {
  /** Too short for IV + ICV + trailer, or ciphertext not a whole number of blocks. */
  length: 'length',
  /** The ICV (HMAC or GCM tag) does not verify. */
  icv: 'icv',
} as const
export type EspOpenFault = (typeof EspOpenFault)[keyof typeof EspOpenFault]

/**
 * The ICV of an integrity algorithm over `covered`: HMAC truncated to icvLength (RFC 2403 §2 and
 * RFC 2404 §2: the first 96 bits; RFC 4868: the first half of the hash output). With
 * an ESN, `seqHi` is appended to the covered bytes (RFC 4303 §3.3.2.1). Returns a fresh array.
 */
export function espIcv(integrity: EspIntegrityAlgorithm, key: Uint8Array, covered: Uint8Array, seqHi?: number): Uint8Array {
  const h = createHmac(integrity.hash, key)
  h.update(covered)
  if (seqHi !== undefined) { const b = new Uint8Array(4); writeU32(b, 0, seqHi); h.update(b) }
  return new Uint8Array(h.digest().subarray(0, integrity.icvLength))
}

/** How an EspTransform runs its cipher (measurement and equivalence tests compare the two). */
export interface EspTransformOptions {
  /**
   * AES-CBC through one long-lived OpenSSL context per direction (default true); false creates a
   * Cipher/Decipher per packet, as 3DES-CBC and AES-GCM always do. Same bytes either way.
   */
  readonly reuseCipherContexts?: boolean
}

/** A copy that we own and can zero (Buffer.alloc never hands out the shared pool). */
function own(b: Uint8Array): Buffer { const c = Buffer.alloc(b.length); c.set(b); return c }

/**
 * One direction's keys and algorithms. `seal` writes a whole ESP packet into a caller buffer;
 * `open` verifies and decrypts one. Sequence numbers, IVs, replay and lifetimes belong to the
 * SA (sa-outbound.ts, sa-inbound.ts); this class can be driven with fixed IVs by vector tests.
 * `seqHi` is the high half of an Extended Sequence Number (RFC 4303 §2.2.1), or undefined for
 * 32-bit sequence numbers.
 */
export class EspTransform {
  readonly encryption: EspEncryptionAlgorithm
  readonly integrity: EspIntegrityAlgorithm | undefined
  readonly ivLength: number
  readonly icvLength: number
  private readonly key: Buffer
  private readonly salt: Buffer
  private readonly authKey: Buffer | undefined
  private readonly nonce = Buffer.alloc(12)
  private readonly aad = Buffer.alloc(12)
  private readonly seqHiBytes = Buffer.alloc(4)
  private readonly reuse: boolean
  // Created on first use: an SA direction only ever seals or only ever opens.
  private sealCtx: CbcSealContext | undefined
  private openCtx: CbcOpenContext | undefined
  private zeroed = false

  /** Copies the keys. Throws RangeError for a wrong key length or pairing (our bug, not the peer's). */
  constructor(encryption: EspEncryptionAlgorithm, integrity: EspIntegrityAlgorithm | undefined, keys: EspKeys, options: EspTransformOptions = {}) {
    checkPairing(encryption, integrity)
    const ek = keys.encryptionKey
    if (ek.length !== encryption.keyLength + encryption.saltLength) throw new RangeError(`${encryption.name} key must be ${encryption.keyLength + encryption.saltLength} bytes, got ${ek.length}`)
    if (integrity && keys.integrityKey?.length !== integrity.keyLength) throw new RangeError(`${integrity.name} key must be ${integrity.keyLength} bytes`)
    this.encryption = encryption
    this.integrity = integrity
    this.ivLength = encryption.ivLength
    this.icvLength = encryption.aead ? encryption.icvLength : integrity!.icvLength
    this.key = own(ek.subarray(0, encryption.keyLength))
    // RFC 4106 §8.1: "The first N octets are the AES key, and the remaining four octets are used as the salt".
    this.salt = own(ek.subarray(encryption.keyLength))
    this.authKey = integrity ? own(keys.integrityKey!) : undefined
    // 3DES stays on a context per packet (legacy, rarely negotiated); GCM needs one per nonce.
    this.reuse = (options.reuseCipherContexts ?? true) && !encryption.aead && isAesCbc(encryption.cipher)
  }

  /** Bytes of the ESP packet (header to ICV) that carries `payloadLength` bytes of Payload Data. */
  sealedLength(payloadLength: number): number {
    const pad = espPadLength(payloadLength, this.encryption.blockSize)
    return ESP_HEADER_LENGTH + this.ivLength + payloadLength + pad + ESP_TRAILER_LENGTH + this.icvLength
  }

  /** The largest Payload Data whose ESP packet fits in `packetLength` bytes (for MTU/MSS); 0 when none does. */
  maxPayloadLength(packetLength: number): number {
    const align = this.encryption.blockSize > 4 ? this.encryption.blockSize : 4
    const ct = packetLength - ESP_HEADER_LENGTH - this.ivLength - this.icvLength
    const n = ct - (ct % align) - ESP_TRAILER_LENGTH
    return n > 0 ? n : 0
  }

  /**
   * Writes the ESP packet for `payload` at out[offset..]: header, `iv` (ivLength bytes), the
   * encrypted Payload Data + default Padding + Pad Length + `nextHeader`, then the ICV. `payload`
   * may already sit at out[offset + 8 + ivLength] (in place); any other overlap is not allowed.
   * Returns the packet length. Throws RangeError for a short `out`, a wrong IV length or after
   * zero() (caller bugs).
   */
  seal(spi: number, seq: number, seqHi: number | undefined, iv: Uint8Array, payload: Uint8Array, nextHeader: number, out: Uint8Array, offset = 0): number {
    if (this.zeroed) throw new RangeError('ESP transform used after its keys were zeroed')
    if (iv.length !== this.ivLength) throw new RangeError(`${this.encryption.name} IV must be ${this.ivLength} bytes`)
    const pad = espPadLength(payload.length, this.encryption.blockSize)
    const ptLen = payload.length + pad + ESP_TRAILER_LENGTH
    const ctStart = offset + ESP_HEADER_LENGTH + this.ivLength
    const total = ESP_HEADER_LENGTH + this.ivLength + ptLen + this.icvLength
    if (out.length - offset < total) throw new RangeError(`ESP output buffer too small: need ${total} bytes at ${offset}, have ${out.length - offset}`)
    encodeEspHeaderInto(out, offset, spi, seq)
    if (payload.buffer !== out.buffer || payload.byteOffset !== out.byteOffset + ctStart) out.set(payload, ctStart)
    writeEspTrailer(out, ctStart + payload.length, pad, nextHeader)
    const plain = out.subarray(ctStart, ctStart + ptLen)
    if (this.reuse) {
      // A context that threw destroyed itself (cbc-context.ts); the next packet gets a fresh one.
      if (!this.sealCtx?.isLive) this.sealCtx = new CbcSealContext(this.encryption.cipher, this.key)
      // Writes iv || ciphertext over the IV slot and the plaintext (cbc-context.ts: same bytes).
      this.sealCtx.sealInPlace(iv, out.subarray(offset + ESP_HEADER_LENGTH, ctStart + ptLen))
      const mac = this.hmac(out.subarray(offset, ctStart + ptLen), seqHi)
      out.set(mac.subarray(0, this.icvLength), ctStart + ptLen)
      return total
    }
    out.set(iv, offset + ESP_HEADER_LENGTH)
    if (this.encryption.aead) {
      const c = createCipheriv(this.encryption.cipher as 'aes-128-gcm', this.key, this.gcmNonce(iv), { authTagLength: this.icvLength })
      c.setAAD(this.gcmAad(out, offset, seqHi))
      out.set(c.update(plain), ctStart)
      c.final()
      out.set(c.getAuthTag(), ctStart + ptLen)
    } else {
      const c = createCipheriv(this.encryption.cipher, this.key, iv)
      c.setAutoPadding(false)
      out.set(c.update(plain), ctStart)
      c.final() // whole blocks: nothing held back
      const mac = this.hmac(out.subarray(offset, ctStart + ptLen), seqHi)
      out.set(mac.subarray(0, this.icvLength), ctStart + ptLen)
    }
    return total
  }

  /**
   * Verifies and decrypts one ESP packet (header to ICV). Returns the plaintext — Payload Data,
   * Padding, Pad Length, Next Header, without the IV — as a fresh Buffer, or a fault. The ICV is
   * checked before anything is decrypted (RFC 4303 §3.4.4.1: with separate algorithms the ICV is
   * computed and compared first, then the packet is decrypted; a combined-mode algorithm, §3.4.4.2,
   * releases no plaintext unless its tag verifies). Never throws on peer bytes; throws RangeError
   * after zero().
   */
  open(packet: Uint8Array, seqHi: number | undefined): Buffer | EspOpenFault {
    if (this.zeroed) throw new RangeError('ESP transform used after its keys were zeroed')
    const ivStart = ESP_HEADER_LENGTH
    const ctStart = ivStart + this.ivLength
    const icvStart = packet.length - this.icvLength
    const ctLen = icvStart - ctStart
    const bs = this.encryption.blockSize
    if (ctLen < ESP_TRAILER_LENGTH || (bs > 1 && ctLen % bs !== 0)) return EspOpenFault.length
    const iv = packet.subarray(ivStart, ctStart)
    const ct = packet.subarray(ctStart, icvStart)
    const icv = packet.subarray(icvStart)
    if (this.encryption.aead) {
      const d = createDecipheriv(this.encryption.cipher as 'aes-128-gcm', this.key, this.gcmNonce(iv), { authTagLength: this.icvLength })
      d.setAuthTag(icv)
      d.setAAD(this.gcmAad(packet, 0, seqHi))
      const plain = d.update(ct)
      try {
        d.final()
      } catch {
        plain.fill(0) // unauthenticated plaintext is never released
        return EspOpenFault.icv
      }
      return plain
    }
    const mac = this.hmac(packet.subarray(0, icvStart), seqHi)
    if (!timingSafeEqual(mac.subarray(0, this.icvLength), icv)) return EspOpenFault.icv
    if (this.reuse) {
      if (!this.openCtx?.isLive) this.openCtx = new CbcOpenContext(this.encryption.cipher, this.key)
      // iv || C are contiguous in the packet; the context returns the plaintext after the IV block.
      return this.openCtx.open(packet.subarray(ivStart, icvStart))
    }
    const d = createDecipheriv(this.encryption.cipher, this.key, iv)
    d.setAutoPadding(false)
    const plain = d.update(ct)
    d.final()
    return plain
  }

  /**
   * Overwrites every key byte and drops the long-lived AES-CBC contexts (node:crypto cannot wipe
   * its internal key copy on demand: cbc-context.ts destroy() releases it as far as Node allows).
   * Later seal/open calls throw RangeError. Idempotent.
   */
  zero(): void {
    this.key.fill(0); this.salt.fill(0); this.authKey?.fill(0); this.nonce.fill(0)
    this.sealCtx?.destroy(); this.openCtx?.destroy()
    this.sealCtx = undefined; this.openCtx = undefined
    this.zeroed = true
  }

  get isZeroed(): boolean { return this.zeroed }
  /** Long-lived cipher contexts this transform holds (0 before first use, with reuse off, and after zero()). */
  get liveCipherContexts(): number { return (this.sealCtx?.isLive ? 1 : 0) + (this.openCtx?.isLive ? 1 : 0) }

  /** RFC 4106 §4: nonce = salt (4) || explicit IV (8). Reused buffer: node copies it. */
  private gcmNonce(iv: Uint8Array): Buffer {
    this.nonce.set(this.salt, 0)
    this.nonce.set(iv, 4)
    return this.nonce
  }

  /** RFC 4106 §5: AAD = SPI || Sequence Number (8 bytes), or SPI || ESN high || ESN low (12 bytes). */
  private gcmAad(packet: Uint8Array, offset: number, seqHi: number | undefined): Uint8Array {
    if (seqHi === undefined) return packet.subarray(offset, offset + ESP_HEADER_LENGTH)
    this.aad.set(packet.subarray(offset, offset + 4), 0)
    writeU32(this.aad, 4, seqHi)
    this.aad.set(packet.subarray(offset + 4, offset + 8), 8)
    return this.aad
  }

  /** HMAC over `covered`; with ESN the high 32 bits are appended (RFC 4303 §3.3.2.1 / §2.2.1). */
  private hmac(covered: Uint8Array, seqHi: number | undefined): Buffer {
    const h = createHmac(this.integrity!.hash, this.authKey!)
    h.update(covered)
    if (seqHi !== undefined) { writeU32(this.seqHiBytes, 0, seqHi); h.update(this.seqHiBytes) }
    return h.digest()
  }
}

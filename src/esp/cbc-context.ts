// AES-CBC for ESP (RFC 3602 §2-3) with one long-lived OpenSSL context per SA direction instead of a
// new Cipher/Decipher per packet: the output is byte for byte the CBC encryption (decryption) under
// the packet's own IV, so the wire format and the IV rules of RFC 3602 §3 are unchanged.
import { createCipheriv, createDecipheriv } from 'node:crypto'
import type { Cipher, Decipher } from 'node:crypto'

/** AES block (RFC 3602 §2.4: "AES uses a block size of sixteen octets"). */
const BLOCK = 16

/** The node:crypto names the contexts below accept: 'aes-128-cbc' | 'aes-192-cbc' | 'aes-256-cbc'. */
export function isAesCbc(cipher: string): boolean {
  return /^aes-(128|192|256)-cbc$/.test(cipher)
}

/*
 * Why reusing one context is sound. An OpenSSL CBC context keeps one chaining block S: the last
 * ciphertext block it produced (encrypting) or consumed (decrypting), and C_i = E_K(P_i ^ C_i-1)
 * continues from it across update() calls, exactly as a long CBC stream would.
 *
 * Sealing with the IV `iv` chosen by the SA: we feed P_1 ^ iv ^ S in place of P_1. The context
 * outputs E_K(P_1 ^ iv ^ S ^ S) = E_K(P_1 ^ iv) = C_1 and then chains from C_1, so its output is
 * CBC_K(iv, P) — the same bytes a fresh createCipheriv(K, iv) gives (the tests check this over
 * random keys, IVs and lengths, and on the RFC 3602 §4 cases). RFC 3602 §3: "The IV MUST be
 * chosen at random, and MUST be unpredictable": the IV is still the SA's random block from its
 * Rng pool, written to the packet unchanged; S is the previous packet's last ciphertext block,
 * already public, and the masked block never leaves the process. Nothing about the IV changes, so
 * neither does the security argument of CBC with random IVs. (The "IV = E_K(random)" construction
 * of NIST SP 800-38A App. C would also be sound, but then the IV on the wire would no longer be
 * the one the caller chose and the fixed-IV vector tests could not drive the same code.)
 *
 * Opening: a CBC decryption context fed iv || C outputs D_K(iv) ^ S (thrown away, then zeroed)
 * followed by P_i = D_K(C_i) ^ C_i-1 with C_0 = iv: the plaintext, whatever S was.
 *
 * Keys: node:crypto copies the key into OpenSSL's context and offers no call to wipe it. destroy()
 * calls final(), after which Node frees the context (OpenSSL clears a cipher context when it frees
 * it) and the object refuses further use (the tests check that); the references are dropped too.
 * We cannot check from JavaScript that the memory was overwritten — that is the limit of node:crypto.
 */

/** Seals with AES-CBC under caller-chosen IVs through one long-lived context. */
export class CbcSealContext {
  private enc: Cipher | undefined
  /** S: the last ciphertext block the context produced (its initial IV is all zero). */
  private readonly chain = Buffer.alloc(BLOCK)

  /** `cipher` must satisfy isAesCbc; `key` is copied by node:crypto (the caller keeps and zeroes its own). */
  constructor(cipher: string, key: Uint8Array) {
    if (!isAesCbc(cipher)) throw new RangeError(`${cipher} is not AES-CBC`)
    this.enc = createCipheriv(cipher, key, this.chain)
    this.enc.setAutoPadding(false)
  }

  get isLive(): boolean { return this.enc !== undefined }

  /**
   * `region` is [IV slot (16 bytes) || plaintext (whole blocks)], contiguous in the output packet.
   * Overwrites it with iv || CBC_K(iv, plaintext). `iv` may alias the slot. Throws RangeError
   * after destroy() or for a bad region (caller bugs).
   */
  sealInPlace(iv: Uint8Array, region: Uint8Array): void {
    if (!this.enc) throw new RangeError('AES-CBC context used after destroy()')
    if (iv.length !== BLOCK || region.length < 2 * BLOCK || region.length % BLOCK !== 0) throw new RangeError('AES-CBC needs a 16-byte IV and whole blocks')
    const plain = region.subarray(BLOCK)
    for (let i = 0; i < BLOCK; i++) plain[i] = plain[i]! ^ iv[i]! ^ this.chain[i]!
    let c: Buffer
    try {
      c = this.enc.update(plain)
    } catch (e) {
      this.destroy() // a context in an unknown state is never reused
      throw e
    }
    // Whole blocks with padding off: OpenSSL returns every block at once, nothing is held back.
    region.set(iv, 0)
    region.set(c, BLOCK)
    this.chain.set(c.subarray(c.length - BLOCK))
  }

  /** Frees the context (final()) and drops it; later calls throw RangeError. Idempotent. */
  destroy(): void {
    this.enc = finish(this.enc)
    this.chain.fill(0)
  }
}

/** Opens AES-CBC packets through one long-lived decryption context. */
export class CbcOpenContext {
  private dec: Decipher | undefined

  constructor(cipher: string, key: Uint8Array) {
    if (!isAesCbc(cipher)) throw new RangeError(`${cipher} is not AES-CBC`)
    this.dec = createDecipheriv(cipher, key, Buffer.alloc(BLOCK))
    this.dec.setAutoPadding(false)
  }

  get isLive(): boolean { return this.dec !== undefined }

  /**
   * `ivAndCiphertext` is iv || C (whole blocks, at least two). Returns the plaintext as a fresh
   * Buffer (a view past the zeroed discarded block). Throws RangeError after destroy() or for a bad
   * length (the caller checks lengths on peer bytes first).
   */
  open(ivAndCiphertext: Uint8Array): Buffer {
    if (!this.dec) throw new RangeError('AES-CBC context used after destroy()')
    if (ivAndCiphertext.length < 2 * BLOCK || ivAndCiphertext.length % BLOCK !== 0) throw new RangeError('AES-CBC needs an IV and whole blocks')
    let p: Buffer
    try {
      p = this.dec.update(ivAndCiphertext)
    } catch (e) {
      this.destroy()
      throw e
    }
    p.fill(0, 0, BLOCK)
    return p.subarray(BLOCK)
  }

  destroy(): void {
    this.dec = finish(this.dec)
  }
}

/** final() makes Node release the OpenSSL context now rather than at garbage collection. */
function finish(c: Cipher | Decipher | undefined): undefined {
  try { c?.final() } catch { /* already finished: nothing left to release */ }
  return undefined
}

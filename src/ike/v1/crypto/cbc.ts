// IKEv1 message encryption (RFC 2408 §3.1 E flag, RFC 2409 §5 and Appendix B): the phase 1 IV
// "hash(g^xi | g^xr)", CBC chaining across messages, the phase 2 / informational IV "hash(last phase-1
// CBC output block | M-ID)", and zero padding to the block size.
import { createCipheriv, createDecipheriv } from 'node:crypto'
import { DecodeError } from '../../../lib/errors.js'
import { hash } from './algorithms.js'
import type { IkeCipher, IkeHash } from './algorithms.js'

/**
 * RFC 2409 Appendix B: the first phase 1 IV is the negotiated hash of the initiator's public
 * Diffie-Hellman value followed by the responder's, truncated to the cipher's block size.
 */
export function phase1Iv(h: IkeHash, c: IkeCipher, gxi: Uint8Array, gxr: Uint8Array): Uint8Array {
  return hash(h, gxi, gxr).slice(0, c.blockSize)
}

/**
 * RFC 2409 Appendix B: the first IV of a Quick Mode or Informational exchange is the hash of the last
 * phase 1 CBC output block followed by the 4-byte phase 2 message ID, truncated. Later
 * messages of that exchange chain from its own last ciphertext block; each exchange keeps its own IV.
 */
export function phase2Iv(h: IkeHash, c: IkeCipher, lastPhase1Block: Uint8Array, messageId: number): Uint8Array {
  const m = Uint8Array.of(messageId >>> 24, (messageId >>> 16) & 0xff, (messageId >>> 8) & 0xff, messageId & 0xff)
  return hash(h, lastPhase1Block, m).slice(0, c.blockSize)
}

/** A copy in its own ArrayBuffer: Buffer.concat may hand out a slice of Node's shared pool, which must not hold plaintext. */
function own(b: Buffer): Uint8Array { const out = new Uint8Array(b); b.fill(0); return out }

/**
 * Encrypts a payload chain. RFC 2409 Appendix B: "Each message should be padded up to the nearest
 * block size using bytes containing 0x00" (no extra block when already aligned; §5.3's length-byte
 * padding belongs to the revised public-key mode, which we do not implement). Returns the ciphertext
 * and the IV for the next message (its last block). `key` and `iv` are not modified.
 */
export function encryptBody(c: IkeCipher, key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): { ciphertext: Uint8Array; nextIv: Uint8Array } {
  if (iv.length !== c.blockSize || key.length !== c.keyLength) throw new RangeError(`${c.name}: key ${key.length}/${c.keyLength}, IV ${iv.length}/${c.blockSize}`)
  const padded = new Uint8Array(Math.max(c.blockSize, Math.ceil(plaintext.length / c.blockSize) * c.blockSize))
  padded.set(plaintext)
  const e = createCipheriv(c.node, key, iv)
  e.setAutoPadding(false)
  const ciphertext = own(Buffer.concat([e.update(padded), e.final()]))
  padded.fill(0)
  return { ciphertext, nextIv: ciphertext.slice(ciphertext.length - c.blockSize) }
}

/**
 * Decrypts an encrypted body. Throws DecodeError when the length is zero or not a multiple of the
 * block size (RFC 2408 §3.1 Length covers whole blocks). The plaintext still carries the padding: walk
 * it with decodePayloadChain(..., trailing = true). `nextIv` (the last ciphertext block) becomes the
 * exchange's IV only once the message authenticates; a forged message must not move the IV.
 */
export function decryptBody(c: IkeCipher, key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): { plaintext: Uint8Array; nextIv: Uint8Array } {
  if (ciphertext.length === 0 || ciphertext.length % c.blockSize !== 0) throw new DecodeError('encrypted.body', 28, `${ciphertext.length} bytes is not a whole number of ${c.blockSize}-byte blocks`)
  if (iv.length !== c.blockSize || key.length !== c.keyLength) throw new RangeError(`${c.name}: key ${key.length}/${c.keyLength}, IV ${iv.length}/${c.blockSize}`)
  const d = createDecipheriv(c.node, key, iv)
  d.setAutoPadding(false)
  const plaintext = own(Buffer.concat([d.update(ciphertext), d.final()]))
  return { plaintext, nextIv: ciphertext.slice(ciphertext.length - c.blockSize) }
}

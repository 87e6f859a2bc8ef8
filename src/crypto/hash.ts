// Thin wrappers over node:crypto digests and HMACs returning Uint8Array: MD5 (RFC 1321, used by
// CHAP RFC 1994 §4.1 and RADIUS), SHA-1 (FIPS 180-4, MS-CHAPv2 and MPPE), SHA-256, HMAC (RFC 2104).
import * as nodeCrypto from 'node:crypto'
import { createHash, createHmac } from 'node:crypto'

function digest(alg: string, parts: readonly Uint8Array[]): Uint8Array {
  const h = createHash(alg)
  for (const p of parts) h.update(p)
  const b = h.digest()
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}
function mac(alg: string, key: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
  const h = createHmac(alg, key)
  for (const p of parts) h.update(p)
  const b = h.digest()
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

/** MD5 over the concatenation of `parts` (16 bytes). */
export function md5(...parts: Uint8Array[]): Uint8Array { return digest('md5', parts) }
/** SHA-1 over the concatenation of `parts` (20 bytes). */
export function sha1(...parts: Uint8Array[]): Uint8Array { return digest('sha1', parts) }
/** SHA-256 over the concatenation of `parts` (32 bytes). */
export function sha256(...parts: Uint8Array[]): Uint8Array { return digest('sha256', parts) }
/** HMAC-MD5 (RFC 2104) of the concatenation of `parts` (16 bytes). */
export function hmacMd5(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array { return mac('md5', key, parts) }
/** HMAC-SHA1 (RFC 2104) of the concatenation of `parts` (20 bytes). */
export function hmacSha1(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array { return mac('sha1', key, parts) }
/** HMAC-SHA256 (RFC 2104, RFC 4231) of the concatenation of `parts` (32 bytes). */
export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array { return mac('sha256', key, parts) }

// crypto.hash (Node >= 20.12) digests a single buffer without a Hash object: ~4x cheaper than
// createHash + update + digest for the 96/112-byte inputs of the per-packet MPPE key change.
const oneShot = (nodeCrypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash

/**
 * SHA-1 of one contiguous buffer (20 bytes, a fresh array): the hot-path form of sha1() for callers
 * that keep their input laid out in one reusable scratch buffer.
 */
export function sha1Of(data: Uint8Array): Uint8Array {
  const b = oneShot ? oneShot('sha1', data, 'buffer') : createHash('sha1').update(data).digest()
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

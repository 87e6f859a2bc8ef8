// NT password hashes for MS-CHAP: NtPasswordHash (RFC 2759 §8.3) and HashNtPasswordHash (§8.4).
// MD4 comes from our pure implementation because Node 20's OpenSSL 3 refuses MD4.
import { md4 } from '../crypto/legacy/md4.js'

/** UTF-16LE bytes of a JS string (its UTF-16 code units, low byte first) — the "unicode" of RFC 2759. */
export function utf16le(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2)
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    out[2 * i] = c & 0xff
    out[2 * i + 1] = c >>> 8
  }
  return out
}

/** NtPasswordHash (RFC 2759 §8.3): MD4 of the UTF-16LE password, 16 fresh bytes. */
export function ntPasswordHash(password: string): Uint8Array {
  const pw = utf16le(password)
  const h = md4(pw)
  pw.fill(0)
  return h
}

/** HashNtPasswordHash (RFC 2759 §8.4): MD4 of the 16-byte NT hash, 16 fresh bytes. Throws RangeError on a wrong length. */
export function hashNtPasswordHash(ntHash: Uint8Array): Uint8Array {
  if (ntHash.length !== 16) throw new RangeError(`NT password hash must be 16 bytes, got ${ntHash.length}`)
  return md4(ntHash)
}

// Hidden AVP values, RFC 2661 §4.3: the Length/Value/Padding subformat XORed with an MD5 stream keyed
// by the Attribute Type, the tunnel's shared secret and the message's Random Vector.
import { md5 } from '../../crypto/hash.js'
import { DecodeError } from '../../lib/errors.js'

/*
 * RFC 2661 §4.3, Hidden AVP Subformat:
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Length of Original Value     |   Original Attribute Value ...
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   ...                             |             Padding ...
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * b(1) = MD5(Attribute Type (2 octets) + secret + Random Vector), c(1) = p(1) xor b(1)
 * b(i) = MD5(secret + c(i-1)),                                    c(i) = p(i) xor b(i)
 * A last segment shorter than 16 octets is XORed with the first octets of b(i) only: the AVP
 * length does not grow to a multiple of 16 (§4.3).
 */

/** The MD5 stream over `data` (encrypt when `decrypt` is false: chaining uses the output). */
function xorStream(attributeType: number, secret: Uint8Array, randomVector: Uint8Array, data: Uint8Array, decrypt: boolean): Uint8Array {
  const out = new Uint8Array(data.length)
  const type = new Uint8Array([(attributeType >>> 8) & 0xff, attributeType & 0xff])
  let b = md5(type, secret, randomVector)
  for (let off = 0; off < data.length; off += 16) {
    const n = Math.min(16, data.length - off)
    for (let i = 0; i < n; i++) out[off + i] = data[off + i]! ^ b[i]!
    // The next block hashes the previous ciphertext segment: the output when hiding, the input when revealing.
    if (off + 16 < data.length) b = md5(secret, (decrypt ? data : out).subarray(off, off + 16))
  }
  return out
}

/**
 * Hides `value` of AVP `attributeType` (§4.3). `padding` octets (random, chosen by the caller) may
 * mask the original length. Returns the Attribute Value field to send with the H bit set.
 */
export function hideAvpValue(attributeType: number, value: Uint8Array, secret: Uint8Array, randomVector: Uint8Array, padding: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (value.length > 0xffff) throw new RangeError('hidden AVP value too long')
  const sub = new Uint8Array(2 + value.length + padding.length)
  sub[0] = value.length >>> 8; sub[1] = value.length & 0xff
  sub.set(value, 2); sub.set(padding, 2 + value.length)
  return xorStream(attributeType, secret, randomVector, sub, false)
}

/**
 * Reveals a hidden Attribute Value (§4.3) and returns the original value (a fresh array).
 * Throws DecodeError('avp.hidden', …) when the subformat is shorter than 2 octets or its Length of
 * Original Value runs past the AVP (a wrong secret or a corrupted AVP looks like this).
 */
export function revealAvpValue(attributeType: number, hidden: Uint8Array, secret: Uint8Array, randomVector: Uint8Array): Uint8Array {
  if (hidden.length < 2) throw new DecodeError('avp.hidden', 0, `hidden value of ${hidden.length} octets`)
  const sub = xorStream(attributeType, secret, randomVector, hidden, true)
  const len = (sub[0]! << 8) | sub[1]!
  if (2 + len > sub.length) { sub.fill(0); throw new DecodeError('avp.hidden', 0, `original length ${len} exceeds ${sub.length - 2}`) }
  const v = sub.slice(2, 2 + len)
  sub.fill(0)
  return v
}

// CHAP with MD5 (RFC 1994 §4.1), also the EAP-MD5 response (RFC 3748 §5.4).
import { md5 } from '../crypto/hash.js'

/**
 * RFC 1994 §4.1: "The Response Value is the one-way hash calculated over a stream of octets
 * consisting of the Identifier, followed by (concatenated with) the "secret", followed by
 * (concatenated with) the Challenge Value." Returns 16 fresh bytes. `id` is taken modulo 256.
 */
export function chapMd5Response(id: number, secret: Uint8Array, challenge: Uint8Array): Uint8Array {
  return md5(Uint8Array.of(id & 0xff), secret, challenge)
}

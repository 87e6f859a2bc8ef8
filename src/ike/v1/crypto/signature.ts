// SIG_I / SIG_R for IKEv1 signature authentication (RFC 2409 §5.1): RSA as a PKCS#1 v1.5 private-key
// encryption of HASH_I/HASH_R (no DigestInfo), ECDSA per RFC 4754 (curve hash, r | s fixed-length).
import { constants, privateEncrypt, publicDecrypt, sign, verify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { constantTimeEqual } from '../../../lib/bytes.js'
import { OakleyAuth } from '../oakley.js'

/** RFC 4754 §3: ECDSA-256 uses SHA-256, ECDSA-384 SHA-384, ECDSA-521 SHA-512. */
const ECDSA_HASH: Readonly<Partial<Record<number, string>>> = {
  [OakleyAuth.EcdsaP256Sha256]: 'sha256',
  [OakleyAuth.EcdsaP384Sha384]: 'sha384',
  [OakleyAuth.EcdsaP521Sha512]: 'sha512',
}

/** True for the authentication methods this module can sign and verify. */
export function isSignatureMethod(method: number): boolean {
  return method === OakleyAuth.RsaSignatures || ECDSA_HASH[method] !== undefined
}

function view(b: Buffer): Uint8Array { return new Uint8Array(b.buffer, b.byteOffset, b.byteLength) }

/**
 * Signs HASH_I or HASH_R. RSA (method 3): RFC 2409 §5.1 has the hash itself encrypted with the private
 * key in PKCS#1 format, not a PKCS#1 signature with a hash OID (IKEv1 peers reject a DigestInfo).
 * ECDSA (9/10/11): RFC 4754 signature over the hash with the curve's SHA-2, encoded as r | s.
 * Throws RangeError for another method (a configuration bug) and node's errors for a wrong key type.
 */
export function signAuthHash(method: number, key: KeyObject, authHash: Uint8Array): Uint8Array {
  if (method === OakleyAuth.RsaSignatures) return view(privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, authHash))
  const h = ECDSA_HASH[method]
  if (!h) throw new RangeError(`authentication method ${method} is not a signature method`)
  return view(sign(h, authHash, { key, dsaEncoding: 'ieee-p1363' }))
}

/** Verifies a peer's SIG payload against the HASH we computed. Never throws: a bad signature or key is false. */
export function verifyAuthHash(method: number, key: KeyObject, authHash: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (method === OakleyAuth.RsaSignatures) {
      const recovered = view(publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature))
      return constantTimeEqual(recovered, authHash)
    }
    const h = ECDSA_HASH[method]
    if (!h) return false
    return verify(h, authHash, { key, dsaEncoding: 'ieee-p1363' }, signature)
  } catch {
    return false
  }
}

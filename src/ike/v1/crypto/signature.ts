// SIG_I / SIG_R for IKEv1 signature authentication (RFC 2409 §5.1): RSA as a PKCS#1 v1.5 private-key
// encryption of HASH_I/HASH_R (no DigestInfo), ECDSA P-256/P-384/P-521 over HASH_I/HASH_R itself as the digest
// (as strongSwan's IKEv1 SIGN_ECDSA_WITH_NULL), r | s fixed-length (RFC 4754 §7).
import { constants, privateEncrypt, publicDecrypt } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { constantTimeEqual } from '../../../lib/bytes.js'
import { OakleyAuth } from '../oakley.js'
import { signDigestWithKey, verifyDigestWithKey } from './ecdsa-raw.js'

/**
 * RFC 4754 §3 names a hash per curve (ECDSA-256 SHA-256, -384 SHA-384, -521 SHA-512), but in IKEv1 the
 * thing signed is already a hash: strongSwan signs HASH_I/HASH_R directly (no second hash), and so do we
 * (ecdsa-raw.ts); the curve's hash is the prf of HASH_I/HASH_R instead (MainModeTask.authPrf).
 * The signature is r | s, each the curve's size (RFC 4754 §7).
 */
const SIG_LENGTH: Readonly<Partial<Record<number, number>>> = { [OakleyAuth.EcdsaP256Sha256]: 64, [OakleyAuth.EcdsaP384Sha384]: 96, [OakleyAuth.EcdsaP521Sha512]: 132 }

/** True for the authentication methods this module can sign and verify. */
export function isSignatureMethod(method: number): boolean {
  return method === OakleyAuth.RsaSignatures || SIG_LENGTH[method] !== undefined
}

function view(b: Buffer): Uint8Array { return new Uint8Array(b.buffer, b.byteOffset, b.byteLength) }

/**
 * Signs HASH_I or HASH_R. RSA (method 3): RFC 2409 §5.1 has the hash itself encrypted with the private
 * key in PKCS#1 format, not a PKCS#1 signature with a hash OID (IKEv1 peers reject a DigestInfo).
 * ECDSA (9/10/11): HASH_I/HASH_R is the digest, signed without hashing again, r | s (deterministic k,
 * RFC 6979). Throws RangeError for another method or a key that does not match it (configuration bugs).
 */
export function signAuthHash(method: number, key: KeyObject, authHash: Uint8Array): Uint8Array {
  if (method === OakleyAuth.RsaSignatures) return view(privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, authHash))
  if (SIG_LENGTH[method] === undefined) throw new RangeError(`authentication method ${method} is not a signature method`)
  const sig = signDigestWithKey(key, authHash)
  if (!sig || sig.length !== SIG_LENGTH[method]) throw new RangeError(`authentication method ${method} does not match the key`)
  return sig
}

/** Verifies a peer's SIG payload against the HASH we computed. Never throws: a bad signature or key is false. */
export function verifyAuthHash(method: number, key: KeyObject, authHash: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (method === OakleyAuth.RsaSignatures) {
      const recovered = view(publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature))
      return constantTimeEqual(recovered, authHash)
    }
    // The method names the curve (RFC 4754 §3): a P-384 key under method 9 is refused by the length check.
    if (signature.length !== SIG_LENGTH[method]) return false
    return verifyDigestWithKey(key, authHash, signature)
  } catch {
    return false
  }
}

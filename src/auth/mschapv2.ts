// MS-CHAPv2 computations (RFC 2759 §8): ChallengeHash, NT-Response, AuthenticatorResponse, and the
// authenticator-side verification that also yields the RFC 3079 §3.4 MasterKey.
import { sha1 } from '../crypto/hash.js'
import { desEncrypt56 } from '../crypto/legacy/des.js'
import { constantTimeEqual, utf8 } from '../lib/bytes.js'
import { getMasterKey } from './mppe-keys.js'
import { hashNtPasswordHash, ntPasswordHash } from './nt-hash.js'

export { hashNtPasswordHash, ntPasswordHash } from './nt-hash.js'

// RFC 2759 §8.7 magic constants (39 and 41 octets of ASCII).
const MAGIC1 = utf8('Magic server to client signing constant')
const MAGIC2 = utf8('Pad to make it do more than one iteration')

function need(b: Uint8Array, n: number, what: string): void {
  if (b.length !== n) throw new RangeError(`${what} must be ${n} bytes, got ${b.length}`)
}

/**
 * The user name as hashed: RFC 2759 §8.2 "Only the user name (as presented by the peer and
 * excluding any prepended domain name) is used as input to SHAUpdate()". Strips up to the last
 * backslash ("DOMAIN\\user" -> "user").
 */
export function stripDomain(userName: string): string {
  const i = userName.lastIndexOf('\\')
  return i < 0 ? userName : userName.slice(i + 1)
}

/** ChallengeHash (RFC 2759 §8.2): first 8 bytes of SHA1(PeerChallenge || AuthenticatorChallenge || UserName). Challenges are 16 bytes (RangeError otherwise). */
export function challengeHash(peerChallenge: Uint8Array, authenticatorChallenge: Uint8Array, userName: string): Uint8Array {
  need(peerChallenge, 16, 'PeerChallenge')
  need(authenticatorChallenge, 16, 'AuthenticatorChallenge')
  return sha1(peerChallenge, authenticatorChallenge, utf8(stripDomain(userName))).slice(0, 8)
}

/**
 * ChallengeResponse (RFC 2759 §8.5): the 16-byte hash is zero-padded to 21 bytes and split into
 * three 7-byte DES keys, each encrypting the 8-byte challenge; 24 fresh bytes.
 */
export function challengeResponse(challenge: Uint8Array, ntHash: Uint8Array): Uint8Array {
  need(challenge, 8, 'Challenge')
  need(ntHash, 16, 'PasswordHash')
  const z = new Uint8Array(21)
  z.set(ntHash)
  const out = new Uint8Array(24)
  for (let i = 0; i < 3; i++) out.set(desEncrypt56(challenge, z.subarray(7 * i, 7 * i + 7)), 8 * i)
  z.fill(0)
  return out
}

/** GenerateNTResponse (RFC 2759 §8.1) from the NT hash instead of the password; 24 bytes. */
export function generateNtResponseFromHash(authenticatorChallenge: Uint8Array, peerChallenge: Uint8Array, userName: string, ntHash: Uint8Array): Uint8Array {
  return challengeResponse(challengeHash(peerChallenge, authenticatorChallenge, userName), ntHash)
}

/** GenerateNTResponse (RFC 2759 §8.1); 24 bytes. */
export function generateNtResponse(authenticatorChallenge: Uint8Array, peerChallenge: Uint8Array, userName: string, password: string): Uint8Array {
  const h = ntPasswordHash(password)
  try { return generateNtResponseFromHash(authenticatorChallenge, peerChallenge, userName, h) } finally { h.fill(0) }
}

/** GenerateAuthenticatorResponse (RFC 2759 §8.7): "S=" followed by 40 uppercase hex digits (42 chars). */
export function generateAuthenticatorResponse(ntHash: Uint8Array, ntResponse: Uint8Array, peerChallenge: Uint8Array, authenticatorChallenge: Uint8Array, userName: string): string {
  need(ntResponse, 24, 'NT-Response')
  const hashHash = hashNtPasswordHash(ntHash)
  const d1 = sha1(hashHash, ntResponse, MAGIC1)
  const d2 = sha1(d1, challengeHash(peerChallenge, authenticatorChallenge, userName), MAGIC2)
  hashHash.fill(0)
  return 'S=' + Buffer.from(d2.buffer, d2.byteOffset, d2.byteLength).toString('hex').toUpperCase()
}

/**
 * CheckAuthenticatorResponse (RFC 2759 §8.8), peer side: whether `received` (the 42-char
 * "S=<40 hex>" from the Success packet) matches. Hex digits compare case-insensitively; the
 * comparison time does not depend on where a mismatch is. Never throws on a malformed `received`.
 */
export function checkAuthenticatorResponse(ntHash: Uint8Array, ntResponse: Uint8Array, peerChallenge: Uint8Array, authenticatorChallenge: Uint8Array, userName: string, received: string): boolean {
  const expected = generateAuthenticatorResponse(ntHash, ntResponse, peerChallenge, authenticatorChallenge, userName)
  if (received.length !== expected.length) return false
  return constantTimeEqual(utf8(received.toUpperCase()), utf8(expected))
}

/** What the authenticator learns from a correct MS-CHAPv2 Response. */
export type MsChapV2Verdict = { ok: true; authenticatorResponse: string; masterKey: Uint8Array } | { ok: false }

/**
 * Authenticator-side check of a peer's MS-CHAPv2 Response against the stored NT hash: recomputes
 * the NT-Response (constant-time compare) and, on success, returns the §8.7 authenticator
 * response and the RFC 3079 §3.4 MasterKey (16 bytes). Wrong field lengths (peer bytes) yield
 * { ok: false }, never an exception.
 */
export function verifyMsChapV2(
  ntHash: Uint8Array,
  proof: { user: string; authenticatorChallenge: Uint8Array; peerChallenge: Uint8Array; ntResponse: Uint8Array },
): MsChapV2Verdict {
  if (ntHash.length !== 16 || proof.authenticatorChallenge.length !== 16 || proof.peerChallenge.length !== 16 || proof.ntResponse.length !== 24) return { ok: false }
  const expected = generateNtResponseFromHash(proof.authenticatorChallenge, proof.peerChallenge, proof.user, ntHash)
  const ok = constantTimeEqual(expected, proof.ntResponse)
  expected.fill(0)
  if (!ok) return { ok: false }
  const hashHash = hashNtPasswordHash(ntHash)
  const masterKey = getMasterKey(hashHash, proof.ntResponse)
  hashHash.fill(0)
  return {
    ok: true,
    authenticatorResponse: generateAuthenticatorResponse(ntHash, proof.ntResponse, proof.peerChallenge, proof.authenticatorChallenge, proof.user),
    masterKey,
  }
}

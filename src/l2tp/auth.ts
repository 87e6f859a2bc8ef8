// Tunnel authentication, RFC 2661 §5.1.1 and §4.4.3 (Challenge / Challenge Response AVPs): a CHAP-like
// MD5 (RFC 1994 §4.1) whose identifier is the Message Type of the message carrying the response.
import { md5 } from '../crypto/hash.js'
import { constantTimeEqual } from '../lib/bytes.js'
import type { Rng } from '../crypto/rng.js'

/** Challenge length we send: 16 random octets (the RFC asks for "one or more"; xl2tpd sends 16). */
export const CHALLENGE_LENGTH = 16

/**
 * The Challenge Response value: MD5(ID + secret + challenge) with ID the low octet of the Message
 * Type of the message that carries it — 2 in an SCCRP, 3 in an SCCCN (§4.4.3). 16 octets.
 */
export function challengeResponse(messageType: number, secret: Uint8Array, challenge: Uint8Array): Uint8Array {
  return md5(new Uint8Array([messageType & 0xff]), secret, challenge)
}

/**
 * Checks a received Challenge Response in constant time. §5.1.1: "If the expected response and
 * response received from a peer does not match, establishment of the tunnel MUST be disallowed."
 */
export function verifyChallengeResponse(messageType: number, secret: Uint8Array, challenge: Uint8Array, response: Uint8Array): boolean {
  return constantTimeEqual(challengeResponse(messageType, secret, challenge), response)
}

/** A fresh challenge from the core's Rng. */
export function newChallenge(rng: Rng): Uint8Array { return rng.bytes(CHALLENGE_LENGTH) }

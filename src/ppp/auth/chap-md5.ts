// CHAP with MD5 (RFC 1994 §2, §4.1; algorithm 5): Value = MD5(Identifier || secret || Challenge).
import { fromUtf8, utf8 } from '../../lib/bytes.js'
import type { Rng } from '../../crypto/rng.js'
import { chapMd5Response } from '../../auth/chap-md5.js'
import { sanitizePeerText } from './core-base.js'
import type { ChapAnswer, ChapAuthenticatorVariant, ChapPeerVariant } from './chap.js'

/** Challenge length we send: 16 octets, as MD5's block of entropy (RFC 1994 §2.3 asks for unpredictable values). */
export const CHAP_MD5_CHALLENGE_LENGTH = 16
const MD5_LENGTH = 16

export const chapMd5AuthenticatorVariant: ChapAuthenticatorVariant = {
  method: 'chap-md5',
  challenge: (rng: Rng) => rng.bytes(CHAP_MD5_CHALLENGE_LENGTH),
  proof(identifier, challenge, value, name) {
    if (value.length !== MD5_LENGTH) return 'bad-response-length'
    return { method: 'chap-md5', user: name, id: identifier, challenge: challenge.slice(), response: value.slice() }
  },
  success: () => ({ ok: true, message: utf8('Welcome') }),
  // The peer learns only that it failed; the reason stays in our logs.
  failure: () => utf8('Authentication failed'),
}

/** Peer side: answers with chapMd5Response over the UTF-8 password. */
export function chapMd5PeerVariant(password: string): ChapPeerVariant {
  const secret = utf8(password)
  return {
    method: 'chap-md5',
    respond(identifier: number, challenge: Uint8Array): ChapAnswer {
      return {
        value: chapMd5Response(identifier, secret, challenge),
        onSuccess: () => ({ ok: true }),
        onFailure: (message) => ({ reason: 'bad-credentials', message: `CHAP Failure: ${sanitizePeerText(fromUtf8(message))}` }),
      }
    },
  }
}

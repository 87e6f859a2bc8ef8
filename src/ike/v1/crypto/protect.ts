// Whole-message protection for IKEv1: seal = encode the chain, pad and encrypt it behind a header with
// the E flag (RFC 2408 §3.1, RFC 2409 Appendix B); open = decrypt and walk the chain, padding ignored.
import { ISAKMP_HEADER_LENGTH, PayloadType } from '../constants.js'
import { decodeHeader } from '../message/header.js'
import type { IsakmpHeader } from '../message/header.js'
import { decodePayloadChain, encodeEncryptedMessage, encodePayloadChain } from '../message/message.js'
import type { HeaderFields, PayloadChain } from '../message/message.js'
import { payloadTypeOf } from '../message/payloads.js'
import type { IsakmpPayload } from '../message/payloads.js'
import { decryptBody, encryptBody } from './cbc.js'
import type { IkeCipher } from './algorithms.js'

/** Encrypts `payloads` under `key`/`iv`; returns the datagram and the IV that follows it. */
export function sealMessage(header: HeaderFields, payloads: readonly IsakmpPayload[], c: IkeCipher, key: Uint8Array, iv: Uint8Array): { bytes: Uint8Array; nextIv: Uint8Array } {
  const plain = encodePayloadChain(payloads)
  const { ciphertext, nextIv } = encryptBody(c, key, iv, plain)
  plain.fill(0)
  const first = payloads[0] ? payloadTypeOf(payloads[0]) : PayloadType.None
  return { bytes: encodeEncryptedMessage(header, first, ciphertext), nextIv }
}

export interface OpenedMessage extends PayloadChain {
  readonly header: IsakmpHeader
  /** The decrypted body (padding included); spans index into it. */
  readonly plaintext: Uint8Array
  /** Commit as the exchange IV only after the message's HASH verifies. */
  readonly nextIv: Uint8Array
}

/**
 * Decrypts an encrypted datagram (E flag set, checked by the caller) and walks its chain. Throws
 * DecodeError for a short or malformed header, a body that is not whole blocks, or a chain that does
 * not parse (what a wrong key or IV produces, too).
 */
export function openMessage(datagram: Uint8Array, c: IkeCipher, key: Uint8Array, iv: Uint8Array): OpenedMessage {
  const header = decodeHeader(datagram)
  const { plaintext, nextIv } = decryptBody(c, key, iv, datagram.subarray(ISAKMP_HEADER_LENGTH, header.length))
  const chain = decodePayloadChain(header.nextPayload, plaintext, 0, plaintext.length, true)
  return { header, plaintext, nextIv, ...chain }
}

/**
 * The wire bytes of every payload after the first (generic headers included, padding excluded): the
 * input of Quick Mode HASH(1)/HASH(2) and Informational HASH(1) (RFC 2409 §5.5, §5.7), where the
 * first payload is the HASH itself. Empty when there is only one payload.
 */
export function bytesAfterFirstPayload(bytes: Uint8Array, chain: PayloadChain): Uint8Array {
  const second = chain.spans[1]
  return second ? bytes.subarray(second.start, chain.end) : bytes.subarray(chain.end, chain.end)
}

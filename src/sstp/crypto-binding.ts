// SSTP crypto binding: [MS-SSTP] §2.2.6/§2.2.7 (attributes), §3.2.5.2.1–§3.2.5.2.4 (Compound MAC input, HLAK, CMK),
// §3.3.5.2.3 (server verification of Call Connected). Vectors: §4.7 (SHA-256) — see test/vectors/sstp/.
import { constantTimeEqual, utf8 } from '../lib/bytes.js'
import { hmacSha1, hmacSha256, sha1, sha256 } from '../crypto/hash.js'
import { getAsymmetricStartKey } from '../auth/mppe-keys.js'
import type { AuthKeys } from '../auth/types.js'
import { SSTP_HASH_FIELD_LENGTH, SSTP_NONCE_LENGTH, SstpHashProtocol } from './attributes.js'
import { SstpMessageType, decodeControlPacket, encodeControlPacket } from './messages.js'

/** §3.2.5.2.2/§3.2.5.2.4: the PRF+ seed, ASCII, no terminating NUL. */
export const CMK_SEED = utf8('SSTP inner method derived CMK')
export const HLAK_LENGTH = 32
/** A Call Connected packet is always 112 bytes: header 4, type+count 4, Crypto Binding attribute 104. */
export const CALL_CONNECTED_LENGTH = 112
const HASH_PROTOCOL_OFFSET = 15
const NONCE_OFFSET = 16
const CERT_HASH_OFFSET = 48
const MAC_OFFSET = 80

/** Digest/MAC length for a single hash protocol value, or undefined if it is not exactly SHA1 or SHA256. */
export function hashLength(hashProtocol: number): 20 | 32 | undefined {
  return hashProtocol === SstpHashProtocol.Sha256 ? 32 : hashProtocol === SstpHashProtocol.Sha1 ? 20 : undefined
}

/** Client choice from the server's bitmask: SHA-256 whenever offered; SHA-1 only if it is all the server offers. */
export function chooseHashProtocol(bitmask: number): number | undefined {
  if (bitmask & SstpHashProtocol.Sha256) return SstpHashProtocol.Sha256
  if (bitmask & SstpHashProtocol.Sha1) return SstpHashProtocol.Sha1
  return undefined
}

/** SHA-1 and SHA-256 of a DER certificate — what the Cert Hash field carries (§2.2.7). */
export function certificateHashes(der: Uint8Array): { readonly sha1: Uint8Array; readonly sha256: Uint8Array } {
  return { sha1: sha1(der), sha256: sha256(der) }
}

/**
 * The Higher-Layer Authentication Key, 32 bytes (§3.2.5.2.2/§3.2.5.2.4). For MS-CHAPv2 the spec says:
 *   "SSTP Client HLAK = MasterSendKey | MasterReceiveKey and SSTP Server HLAK = MasterReceiveKey | MasterSendKey",
 * each side using its own RFC 3079 §3.3 keys (16 bytes). The client's send key is the server's receive key, so both
 * sides arrive at the same 32 bytes. For EAP other than EAP-TLS the HLAK is the MSK's first 32 bytes; EAP-MS-CHAPv2's
 * MSK starts with the same two keys in the same order (authenticator: MasterReceiveKey | MasterSendKey, [MS-CHAP]
 * §3.1.5.1 MSK construction), so the formula is shared. "If the higher-layer PPP authentication method did not
 * generate any keys ... the HLAK MUST be 32 octets of 0x00" — PAP, CHAP-MD5, EAP-MD5: pass `undefined`.
 */
export function deriveHlak(keys: AuthKeys | undefined, role: 'client' | 'server'): Uint8Array {
  const hlak = new Uint8Array(HLAK_LENGTH)
  if (!keys) return hlak
  const isServer = role === 'server'
  const send = getAsymmetricStartKey(keys.masterKey, 16, true, isServer)
  const receive = getAsymmetricStartKey(keys.masterKey, 16, false, isServer)
  if (isServer) { hlak.set(receive, 0); hlak.set(send, 16) } else { hlak.set(send, 0); hlak.set(receive, 16) }
  send.fill(0)
  receive.fill(0)
  return hlak
}

/**
 * CMK = T1 = HMAC-H(HLAK, S | LEN | 0x01) — the first block of the PRF+ construction, with S = CMK_SEED and LEN the
 * CMK length (32 for SHA-256, 20 for SHA-1) as a 16-bit little-endian integer. The byte order is confirmed by the
 * §4.7 vector (big-endian does not reproduce its Compound MAC).
 */
export function deriveCmk(hlak: Uint8Array, hashProtocol: number): Uint8Array {
  const n = hashLength(hashProtocol)
  if (n === undefined) throw new RangeError(`hash protocol ${hashProtocol} is not SHA1 (1) or SHA256 (2)`)
  const tail = new Uint8Array([n & 0xff, n >>> 8, 0x01])
  return n === 32 ? hmacSha256(hlak, CMK_SEED, tail) : hmacSha1(hlak, CMK_SEED, tail)
}

/** Compound MAC = HMAC-H(CMK, the whole Call Connected packet with the Compound MAC field zeroed) (§3.2.5.2.1/.3). */
export function computeCompoundMac(cmk: Uint8Array, hashProtocol: number, zeroedPacket: Uint8Array): Uint8Array {
  return hashLength(hashProtocol) === 32 ? hmacSha256(cmk, zeroedPacket) : hmacSha1(cmk, zeroedPacket)
}

function padded(value: Uint8Array): Uint8Array {
  const f = new Uint8Array(SSTP_HASH_FIELD_LENGTH)
  f.set(value.subarray(0, SSTP_HASH_FIELD_LENGTH))
  return f
}

export interface CallConnectedParams {
  readonly hashProtocol: number
  readonly nonce: Uint8Array // 32, from the server's Crypto Binding Request
  readonly certHash: Uint8Array // 20 or 32: hash of the server certificate as the client received it
  readonly hlak: Uint8Array // 32
}

/** Client: the complete 112-byte Call Connected packet with its Compound MAC filled in. */
export function buildCallConnected(p: CallConnectedParams): Uint8Array {
  const n = hashLength(p.hashProtocol)
  if (n === undefined) throw new RangeError('hash protocol must be SHA1 or SHA256')
  if (p.nonce.length !== SSTP_NONCE_LENGTH || p.certHash.length !== n) throw new RangeError('nonce must be 32 bytes and certHash the hash length')
  const packet = encodeControlPacket({
    messageType: SstpMessageType.CallConnected,
    attributes: [{ attribute: 'cryptoBinding', hashProtocol: p.hashProtocol, nonce: p.nonce, certHash: padded(p.certHash), compoundMac: new Uint8Array(SSTP_HASH_FIELD_LENGTH) }],
  })
  const cmk = deriveCmk(p.hlak, p.hashProtocol)
  const mac = computeCompoundMac(cmk, p.hashProtocol, packet)
  cmk.fill(0)
  packet.set(mac, MAC_OFFSET)
  return packet
}

export interface BindingExpectation {
  /** The bitmask we sent in the Crypto Binding Request: the client's Hash Protocol must be one of its bits. */
  readonly offeredBitmask: number
  readonly nonce: Uint8Array
  /** Hashes of OUR certificate's DER. SHA-1 is needed only if offered. */
  readonly certHashSha256: Uint8Array
  readonly certHashSha1?: Uint8Array
  readonly hlak: Uint8Array
}

export type BindingResult =
  | { readonly ok: true; readonly hashProtocol: number }
  | { readonly ok: false; readonly reason: 'malformed' | 'hash-protocol' | 'nonce' | 'cert-hash' | 'compound-mac'; readonly message: string }

/**
 * Server (§3.3.5.2.3): checks a received Call Connected packet: the Hash Protocol is a single protocol we offered,
 * the nonce is ours, the Cert Hash is our certificate's, and the Compound MAC matches (constant-time compare).
 * Never throws for any packet bytes.
 */
export function verifyCallConnected(packet: Uint8Array, exp: BindingExpectation): BindingResult {
  let attr
  try {
    attr = decodeControlPacket(packet).attributes[0]
  } catch {
    return { ok: false, reason: 'malformed', message: 'Call Connected does not decode' }
  }
  if (packet.length !== CALL_CONNECTED_LENGTH || attr?.attribute !== 'cryptoBinding') return { ok: false, reason: 'malformed', message: 'Call Connected without one Crypto Binding attribute' }
  const hp = attr.hashProtocol
  const n = hashLength(hp)
  if (n === undefined || (exp.offeredBitmask & hp) === 0) return { ok: false, reason: 'hash-protocol', message: `hash protocol ${hp} not offered (bitmask ${exp.offeredBitmask})` }
  const expectedHash = n === 32 ? exp.certHashSha256 : exp.certHashSha1
  if (!expectedHash || expectedHash.length !== n) return { ok: false, reason: 'hash-protocol', message: 'no certificate hash configured for the chosen protocol' }
  if (!constantTimeEqual(attr.nonce, exp.nonce)) return { ok: false, reason: 'nonce', message: 'nonce differs from the one we sent' }
  if (!constantTimeEqual(packet.subarray(CERT_HASH_OFFSET, CERT_HASH_OFFSET + n), expectedHash)) {
    return { ok: false, reason: 'cert-hash', message: 'certificate hash is not ours (TLS terminated elsewhere?)' }
  }
  // A copy even when `packet` is a Node Buffer view of the TLS chunk (Buffer#slice would alias it).
  const zeroed = new Uint8Array(packet)
  zeroed.fill(0, MAC_OFFSET, MAC_OFFSET + n)
  const cmk = deriveCmk(exp.hlak, hp)
  const mac = computeCompoundMac(cmk, hp, zeroed)
  cmk.fill(0)
  if (!constantTimeEqual(packet.subarray(MAC_OFFSET, MAC_OFFSET + n), mac)) return { ok: false, reason: 'compound-mac', message: 'Compound MAC mismatch (HLAK differs)' }
  return { ok: true, hashProtocol: hp }
}

export const CALL_CONNECTED_OFFSETS = { hashProtocol: HASH_PROTOCOL_OFFSET, nonce: NONCE_OFFSET, certHash: CERT_HASH_OFFSET, compoundMac: MAC_OFFSET } as const

// MPPE key derivation from MS-CHAPv2 credentials (RFC 3079 §3.4) and the session-key change of
// RFC 3078 §7.3 (GetNewKeyFromSHA, RC4 re-encryption, 40/56-bit reduction of RFC 3079 §3.1–3.3).
import { sha1, sha1Of } from '../crypto/hash.js'
import { Rc4 } from '../crypto/legacy/rc4.js'
import { utf8 } from '../lib/bytes.js'

// RFC 3079 §3.4 constants.
const MAGIC1 = utf8('This is the MPPE Master Key') // 27 octets
const MAGIC2 = utf8('On the client side, this is the send key; on the server side, it is the receive key.') // 84 octets
const MAGIC3 = utf8('On the client side, this is the receive key; on the server side, it is the send key.') // 84 octets
const SHS_PAD1 = new Uint8Array(40) // 40 x 0x00
const SHS_PAD2 = new Uint8Array(40).fill(0xf2) // 40 x 0xF2

/** GetMasterKey (RFC 3079 §3.4): first 16 bytes of SHA1(PasswordHashHash || NT-Response || Magic1). */
export function getMasterKey(passwordHashHash: Uint8Array, ntResponse: Uint8Array): Uint8Array {
  if (passwordHashHash.length !== 16) throw new RangeError(`PasswordHashHash must be 16 bytes, got ${passwordHashHash.length}`)
  if (ntResponse.length !== 24) throw new RangeError(`NT-Response must be 24 bytes, got ${ntResponse.length}`)
  return sha1(passwordHashHash, ntResponse, MAGIC1).slice(0, 16)
}

/**
 * GetAsymmetricStartKey (RFC 3079 §3.4): SHA1(MasterKey || SHSpad1 || s || SHSpad2) truncated to
 * keyLength, where s is Magic3 for (send, server) and (receive, client), Magic2 otherwise — so the
 * server's send key equals the client's receive key. keyLength is 8 for 40/56-bit MPPE, 16 for 128-bit.
 */
export function getAsymmetricStartKey(masterKey: Uint8Array, keyLength: 8 | 16, isSend: boolean, isServer: boolean): Uint8Array {
  if (masterKey.length !== 16) throw new RangeError(`MasterKey must be 16 bytes, got ${masterKey.length}`)
  const s = isSend === isServer ? MAGIC3 : MAGIC2
  return sha1(masterKey, SHS_PAD1, s, SHS_PAD2).slice(0, keyLength)
}

/**
 * GetNewKeyFromSHA (RFC 3078 §7.3, RFC 3079 §3.4): first keyLength bytes of
 * SHA1(StartKey[0..len] || SHApad1 || SessionKey[0..len] || SHApad2). keyLength is 8 or 16 and
 * both keys must be at least that long (RangeError otherwise).
 */
export function getNewKeyFromSha(startKey: Uint8Array, sessionKey: Uint8Array, keyLength: number): Uint8Array {
  if (keyLength !== 8 && keyLength !== 16) throw new RangeError(`MPPE key length must be 8 or 16, got ${keyLength}`)
  if (startKey.length < keyLength || sessionKey.length < keyLength) throw new RangeError('MPPE start/session key shorter than keyLength')
  return sha1(startKey.subarray(0, keyLength), SHS_PAD1, sessionKey.subarray(0, keyLength), SHS_PAD2).slice(0, keyLength)
}

/** MPPE key strengths (RFC 3078 §2: 40, 56 or 128 bits). */
export type MppeBits = 40 | 56 | 128

/** Bytes of key material per strength: 8 for 40/56-bit, 16 for 128-bit (RFC 3079 §3.1–3.3). */
export function mppeKeyLength(bits: MppeBits): 8 | 16 { return bits === 128 ? 16 : 8 }

/**
 * Weakens an 8-byte key in place to 40 or 56 effective bits (RFC 3079 §3.1/§3.2): the first three
 * octets become 0xD1 0x26 0x9E (40-bit) or the first octet becomes 0xD1 (56-bit). 128-bit: no-op.
 */
export function reduceSessionKey(key: Uint8Array, bits: MppeBits): Uint8Array {
  if (bits === 40) { key[0] = 0xd1; key[1] = 0x26; key[2] = 0x9e } else if (bits === 56) key[0] = 0xd1
  return key
}

/** The first session key from a start key (RFC 3079 §3.1–3.3): GetNewKeyFromSHA(start, start), then reduced. */
export function initialSessionKey(startKey: Uint8Array, bits: MppeBits): Uint8Array {
  return reduceSessionKey(getNewKeyFromSha(startKey, startKey, mppeKeyLength(bits)), bits)
}

/**
 * The next session key (RFC 3078 §7.3 key change): InterimKey = GetNewKeyFromSHA(start, current);
 * the new key is InterimKey encrypted with RC4 keyed by InterimKey, then reduced for 40/56 bits.
 */
export function nextSessionKey(startKey: Uint8Array, currentKey: Uint8Array, bits: MppeBits): Uint8Array {
  const interim = getNewKeyFromSha(startKey, currentKey, mppeKeyLength(bits))
  const next = new Rc4(interim).process(interim)
  interim.fill(0)
  return reduceSessionKey(next, bits)
}

/**
 * The RFC 3078 §7.3 key change of nextSessionKey without per-call allocations except the digest
 * itself: the GetNewKeyFromSHA input (StartKey || SHApad1 || SessionKey || SHApad2) is laid out once
 * in a scratch buffer with only the session key part rewritten, and one RC4 state is rekeyed in
 * place. Stateless MPPE (§7.1) changes the key for every packet in each direction.
 * Holds a copy of the start key: wipe() at teardown.
 */
export class SessionKeyChanger {
  readonly bits: MppeBits
  private readonly len: 8 | 16
  private readonly input: Uint8Array
  /** The SessionKey part of `input` (kept as a view: no subarray per key change). */
  private readonly session: Uint8Array
  private readonly rc4: Rc4

  /** `startKey` must be 8 bytes (40/56-bit) or 16 (128-bit); RangeError otherwise. Copied. */
  constructor(startKey: Uint8Array, bits: MppeBits) {
    const len = mppeKeyLength(bits)
    if (startKey.length !== len) throw new RangeError(`MPPE ${bits}-bit start key must be ${len} bytes, got ${startKey.length}`)
    this.bits = bits
    this.len = len
    this.input = new Uint8Array(len + 40 + len + 40)
    this.input.set(startKey, 0) // SHApad1 (40 x 0x00) follows as allocated
    this.input.fill(0xf2, len + 40 + len) // SHApad2
    this.session = this.input.subarray(len + 40, len + 40 + len)
    this.rc4 = new Rc4(startKey)
  }

  /**
   * Writes the session key that follows `current` into `out` (both `len` bytes; `out` may be
   * `current`). Same result as nextSessionKey(start, current, bits).
   */
  next(current: Uint8Array, out: Uint8Array): void {
    const len = this.len
    if (current.length < len || out.length < len) throw new RangeError('MPPE session key buffer shorter than the key length')
    const session = this.session
    session.set(current.length === len ? current : current.subarray(0, len))
    const digest = sha1Of(this.input)
    const interim = digest.subarray(0, len)
    this.rc4.rekey(interim)
    this.rc4.process(interim, out)
    digest.fill(0)
    session.fill(0)
    reduceSessionKey(out, this.bits)
  }

  wipe(): void { this.input.fill(0); this.rc4.wipe() }
}

/**
 * Both MPPE start keys for one side of the link (RFC 3079 §3.1–3.3 with §3.4's GetAsymmetricStartKey):
 * `send` encrypts what this side sends, `receive` decrypts what it receives.
 */
export function mppeStartKeys(masterKey: Uint8Array, bits: MppeBits, isServer: boolean): { send: Uint8Array; receive: Uint8Array } {
  const len = mppeKeyLength(bits)
  return { send: getAsymmetricStartKey(masterKey, len, true, isServer), receive: getAsymmetricStartKey(masterKey, len, false, isServer) }
}

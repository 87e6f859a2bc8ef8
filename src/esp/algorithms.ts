// ESP algorithm table keyed by the IKE identifiers: AES-CBC (RFC 3602), 3DES-CBC (RFC 2451),
// AES-GCM-16 (RFC 4106), HMAC-MD5-96 (RFC 2403), HMAC-SHA1-96 (RFC 2404), HMAC-SHA-256-128 /
// -384-192 / -512-256 (RFC 4868); IKEv1 ids per RFC 2407 §4.4.4 and §4.5, IKEv2 ids per RFC 7296 §3.3.2.

/** RFC 2407 §4.4.4 IPSEC ESP Transform Identifiers (IANA "IPSEC ESP Transform Identifiers"). */
export const Ikev1EspTransformId = {
  ESP_3DES: 3,
  ESP_AES: 12,
  /** RFC 4106 §8.1: AES-GCM with an 8-, 12- or 16-octet ICV; only the 16-octet one is offered. */
  ESP_AES_GCM_16: 20,
} as const

/** RFC 2407 §4.5 "Authentication Algorithm" attribute values (IANA "IPSEC Authentication Algorithms"). */
export const Ikev1AuthAlgorithm = {
  HMAC_MD5: 1,
  HMAC_SHA: 2,
  /** IANA value 5 (as registered for RFC 4868): HMAC-SHA-256 truncated to 128 bits. */
  HMAC_SHA2_256: 5,
  HMAC_SHA2_384: 6,
  HMAC_SHA2_512: 7,
} as const

/** IKEv2 Transform Type 1 (ENCR_*) and 3 (AUTH_*) ids, RFC 7296 §3.3.2 and RFC 4868 §7. */
export const Ikev2TransformId = {
  ENCR_3DES: 3,
  ENCR_AES_CBC: 12,
  ENCR_AES_GCM_16: 20,
  AUTH_HMAC_MD5_96: 1,
  AUTH_HMAC_SHA1_96: 2,
  AUTH_HMAC_SHA2_256_128: 12,
  AUTH_HMAC_SHA2_384_192: 13,
  AUTH_HMAC_SHA2_512_256: 14,
} as const

/** A confidentiality (or combined-mode) algorithm with the numbers ESP framing needs. */
export interface EspEncryptionAlgorithm {
  readonly name: string
  readonly ikev1TransformId: number
  readonly ikev2TransformId: number
  /** Cipher key in bytes (for AES-GCM without the salt). */
  readonly keyLength: number
  /** RFC 4106 §8.1: 4 salt bytes follow the AES key in the key material; 0 otherwise. */
  readonly saltLength: number
  /** Explicit IV carried at the start of Payload Data. */
  readonly ivLength: number
  /** Padding alignment unit (the cipher block; 1 for GCM, where ESP's 4-byte rule applies). */
  readonly blockSize: number
  /** Combined mode (AEAD): the ICV is the tag, and no integrity algorithm may be paired. */
  readonly aead: boolean
  /** AEAD tag length; 0 for CBC. */
  readonly icvLength: number
  /** node:crypto cipher name. */
  readonly cipher: string
}

/** An integrity algorithm (HMAC truncated to icvLength). */
export interface EspIntegrityAlgorithm {
  readonly name: string
  readonly ikev1AuthAlgorithm: number
  readonly ikev2TransformId: number
  /** Key in bytes: RFC 2404 §3 160 bits for SHA-1; RFC 4868 §2.1.1 the hash output size for SHA-2. */
  readonly keyLength: number
  readonly icvLength: number
  /** node:crypto hash name. */
  readonly hash: string
}

function aesCbc(bits: number): EspEncryptionAlgorithm {
  // RFC 3602 §3: "the IV field MUST be the same size as the block size" (16); §2.4 block 16.
  return { name: `aes-cbc-${bits}`, ikev1TransformId: 12, ikev2TransformId: 12, keyLength: bits / 8, saltLength: 0, ivLength: 16, blockSize: 16, aead: false, icvLength: 0, cipher: `aes-${bits}-cbc` }
}
function aesGcm16(bits: number): EspEncryptionAlgorithm {
  // RFC 4106 §3.1: 8-octet explicit IV; §6: 16-octet ICV for the "16" variant; §4: 4-octet salt.
  return { name: `aes-gcm16-${bits}`, ikev1TransformId: 20, ikev2TransformId: 20, keyLength: bits / 8, saltLength: 4, ivLength: 8, blockSize: 1, aead: true, icvLength: 16, cipher: `aes-${bits}-gcm` }
}

/** Every encryption algorithm Gatehouse's ESP implements. */
export const EspEncryption = {
  AES_CBC_128: aesCbc(128),
  AES_CBC_192: aesCbc(192),
  AES_CBC_256: aesCbc(256),
  /** RFC 2451 §2.2-2.3: 192-bit key (three DES keys), 64-bit block and IV. For old Windows clients. */
  DES3_CBC: { name: '3des-cbc', ikev1TransformId: 3, ikev2TransformId: 3, keyLength: 24, saltLength: 0, ivLength: 8, blockSize: 8, aead: false, icvLength: 0, cipher: 'des-ede3-cbc' } as EspEncryptionAlgorithm,
  AES_GCM16_128: aesGcm16(128),
  AES_GCM16_192: aesGcm16(192),
  AES_GCM16_256: aesGcm16(256),
} as const

/** Every integrity algorithm Gatehouse's ESP implements. */
export const EspIntegrity = {
  /** RFC 2403 §2: 128-bit key, 96-bit ICV. Offered by old Windows and Android only. */
  HMAC_MD5_96: { name: 'hmac-md5-96', ikev1AuthAlgorithm: 1, ikev2TransformId: 1, keyLength: 16, icvLength: 12, hash: 'md5' } as EspIntegrityAlgorithm,
  /** RFC 2404 §2-3: 160-bit key, first 96 bits of HMAC-SHA-1. */
  HMAC_SHA1_96: { name: 'hmac-sha1-96', ikev1AuthAlgorithm: 2, ikev2TransformId: 2, keyLength: 20, icvLength: 12, hash: 'sha1' } as EspIntegrityAlgorithm,
  /** RFC 4868: truncated to 128 bits (not the 96 of pre-standard Linux, strongSwan's "sha256_96"). */
  HMAC_SHA2_256_128: { name: 'hmac-sha2-256-128', ikev1AuthAlgorithm: 5, ikev2TransformId: 12, keyLength: 32, icvLength: 16, hash: 'sha256' } as EspIntegrityAlgorithm,
  HMAC_SHA2_384_192: { name: 'hmac-sha2-384-192', ikev1AuthAlgorithm: 6, ikev2TransformId: 13, keyLength: 48, icvLength: 24, hash: 'sha384' } as EspIntegrityAlgorithm,
  HMAC_SHA2_512_256: { name: 'hmac-sha2-512-256', ikev1AuthAlgorithm: 7, ikev2TransformId: 14, keyLength: 64, icvLength: 32, hash: 'sha512' } as EspIntegrityAlgorithm,
} as const

const ENCRYPTIONS: readonly EspEncryptionAlgorithm[] = Object.values(EspEncryption)
const INTEGRITIES: readonly EspIntegrityAlgorithm[] = Object.values(EspIntegrity)

/**
 * The algorithm for an IKEv1 ESP transform id and its Key Length attribute in bits (RFC 2407 §4.5
 * attribute 6). AES proposals carry the Key Length (RFC 3602 §5); when it is absent 128 bits is
 * taken; 3DES has a fixed key and refuses any other length.
 * Returns undefined for anything not implemented.
 */
export function espEncryptionForIkev1(transformId: number, keyLengthBits?: number): EspEncryptionAlgorithm | undefined {
  return pick(ENCRYPTIONS, (a) => a.ikev1TransformId === transformId, keyLengthBits)
}

/** As espEncryptionForIkev1, for an IKEv2 ENCR transform id and its Key Length attribute. */
export function espEncryptionForIkev2(transformId: number, keyLengthBits?: number): EspEncryptionAlgorithm | undefined {
  return pick(ENCRYPTIONS, (a) => a.ikev2TransformId === transformId, keyLengthBits)
}

function pick(list: readonly EspEncryptionAlgorithm[], match: (a: EspEncryptionAlgorithm) => boolean, keyLengthBits: number | undefined): EspEncryptionAlgorithm | undefined {
  const candidates = list.filter(match)
  if (candidates.length === 0) return undefined
  if (keyLengthBits === undefined) return candidates.find((a) => a.keyLength === 16) ?? (candidates.length === 1 ? candidates[0] : undefined)
  return candidates.find((a) => a.keyLength * 8 === keyLengthBits)
}

/** The integrity algorithm for an IKEv1 Authentication Algorithm attribute value, or undefined. */
export function espIntegrityForIkev1(authAlgorithm: number): EspIntegrityAlgorithm | undefined {
  return INTEGRITIES.find((a) => a.ikev1AuthAlgorithm === authAlgorithm)
}

/** The integrity algorithm for an IKEv2 AUTH transform id, or undefined. */
export function espIntegrityForIkev2(transformId: number): EspIntegrityAlgorithm | undefined {
  return INTEGRITIES.find((a) => a.ikev2TransformId === transformId)
}

/** Keys of one SA direction. For AES-GCM `encryptionKey` is the AES key followed by the 4-byte salt. */
export interface EspKeys {
  readonly encryptionKey: Uint8Array
  readonly integrityKey?: Uint8Array
}

/**
 * Bytes of KEYMAT one direction needs: cipher key (+ salt for GCM, RFC 4106 §8.1 "N + 4 octets")
 * then the integrity key. Throws RangeError when an AEAD is paired with an integrity
 * algorithm or a CBC cipher without one (our bug: IKE must refuse such a proposal).
 */
export function espKeyMaterialLength(enc: EspEncryptionAlgorithm, integ: EspIntegrityAlgorithm | undefined): number {
  checkPairing(enc, integ)
  return enc.keyLength + enc.saltLength + (integ?.keyLength ?? 0)
}

/**
 * Splits one direction's KEYMAT: the encryption key (and GCM salt) from the first bytes, the
 * integrity key from the rest — the order of RFC 7296 §2.17 ("encryption key ... first ...
 * integrity key ... remaining") that IKEv1 implementations (strongSwan, libreswan) use as well.
 * Returns copies; throws RangeError for a wrong KEYMAT length (our bug).
 */
export function splitEspKeyMaterial(enc: EspEncryptionAlgorithm, integ: EspIntegrityAlgorithm | undefined, keymat: Uint8Array): EspKeys {
  const need = espKeyMaterialLength(enc, integ)
  if (keymat.length !== need) throw new RangeError(`ESP ${enc.name}${integ ? '+' + integ.name : ''} needs ${need} bytes of key material, got ${keymat.length}`)
  const e = enc.keyLength + enc.saltLength
  return integ ? { encryptionKey: keymat.slice(0, e), integrityKey: keymat.slice(e) } : { encryptionKey: keymat.slice(0, e) }
}

/** Throws RangeError unless `integ` is present exactly when `enc` is not combined-mode. */
export function checkPairing(enc: EspEncryptionAlgorithm, integ: EspIntegrityAlgorithm | undefined): void {
  // RFC 4303 §3.2.3 / RFC 4106 §8: a combined mode algorithm provides integrity itself; RFC 4303
  // §3.2 "confidentiality-only" ESP is not offered by Gatehouse (RFC 4303 §5 warns against it).
  if (enc.aead && integ) throw new RangeError(`${enc.name} is combined-mode and takes no integrity algorithm`)
  if (!enc.aead && !integ) throw new RangeError(`${enc.name} needs an integrity algorithm`)
}

// IKEv1 phase 1 algorithm registry: the negotiated hash and its HMAC prf (RFC 2409 §4: "prf ... the
// HMAC version of the negotiated hash algorithm"), and the CBC ciphers (3DES RFC 2451, AES RFC 3602).
import { createHash, createHmac } from 'node:crypto'
import { OakleyEncryption, OakleyHash } from '../oakley.js'

export interface IkeHash {
  readonly id: number
  readonly name: string
  /** node:crypto digest name. */
  readonly node: string
  /** Output length in bytes (also the prf output length). */
  readonly length: number
}

/** Hashes by RFC 2409 Appendix A value (RFC 4868 for SHA2). Tiger is not offered by anyone we serve. */
export const IKE_HASHES: Readonly<Partial<Record<number, IkeHash>>> = {
  [OakleyHash.Md5]: { id: OakleyHash.Md5, name: 'md5', node: 'md5', length: 16 },
  [OakleyHash.Sha1]: { id: OakleyHash.Sha1, name: 'sha1', node: 'sha1', length: 20 },
  [OakleyHash.Sha2_256]: { id: OakleyHash.Sha2_256, name: 'sha2-256', node: 'sha256', length: 32 },
  [OakleyHash.Sha2_384]: { id: OakleyHash.Sha2_384, name: 'sha2-384', node: 'sha384', length: 48 },
  [OakleyHash.Sha2_512]: { id: OakleyHash.Sha2_512, name: 'sha2-512', node: 'sha512', length: 64 },
}

function view(b: Buffer): Uint8Array { return new Uint8Array(b.buffer, b.byteOffset, b.byteLength) }

/** The negotiated hash over the concatenation of `parts`. */
export function hash(h: IkeHash, ...parts: readonly Uint8Array[]): Uint8Array {
  const c = createHash(h.node)
  for (const p of parts) c.update(p)
  return view(c.digest())
}

/** prf(key, parts...) = HMAC-<hash>(key, concatenation of parts) (RFC 2409 §4, RFC 2104). */
export function prf(h: IkeHash, key: Uint8Array, ...parts: readonly Uint8Array[]): Uint8Array {
  const c = createHmac(h.node, key)
  for (const p of parts) c.update(p)
  return view(c.digest())
}

export interface IkeCipher {
  readonly id: number
  readonly name: string
  /** node:crypto cipher name (CBC, no auto padding). */
  readonly node: string
  readonly keyLength: number
  readonly blockSize: number
}

/**
 * The phase 1 cipher for an Encryption Algorithm value and Key Length attribute (bits). AES needs the
 * key length (RFC 3602 §5: the Key Length attribute "MUST" be present for AES; 128/192/256); 3DES has a
 * fixed 192-bit key and refuses a Key Length. DES (1) is absent: OpenSSL 3 only has it in the legacy
 * provider (DESIGN.md §8), and no client we serve needs it for IKE. Undefined = not supported.
 */
export function ikeCipher(encryption: number, keyLengthBits: number | undefined): IkeCipher | undefined {
  if (encryption === OakleyEncryption.TripleDesCbc) {
    if (keyLengthBits !== undefined && keyLengthBits !== 192) return undefined
    return { id: encryption, name: '3des-cbc', node: 'des-ede3-cbc', keyLength: 24, blockSize: 8 }
  }
  if (encryption === OakleyEncryption.AesCbc) {
    if (keyLengthBits !== 128 && keyLengthBits !== 192 && keyLengthBits !== 256) return undefined
    return { id: encryption, name: `aes${keyLengthBits}-cbc`, node: `aes-${keyLengthBits}-cbc`, keyLength: keyLengthBits / 8, blockSize: 16 }
  }
  return undefined
}

// Password-based encryption for PKCS#12: the PKCS#12 key derivation (RFC 7292 Appendix B.2), the
// pbeWithSHAAnd3-KeyTripleDES-CBC scheme (RFC 7292 Appendix C), PBES2 with PBKDF2 (RFC 8018 §6.2,
// §5.2, Appendix A.2/A.4/B.2.5) and the MacData key (RFC 7292 §5 + Appendix B).
import { createCipheriv, createDecipheriv, createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto'
import { VpnError } from '../lib/errors.js'
import { bad, bytesOf, child, children, der, intOf, octetsOf, oidOf, type Asn1 } from './der.js'

export const OID = {
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbeWithSHAAnd3KeyTripleDesCbc: '1.2.840.113549.1.12.1.3',
  pbeWithSHAAnd40BitRc2Cbc: '1.2.840.113549.1.12.1.6',
  hmacWithSHA1: '1.2.840.113549.2.7',
  hmacWithSHA256: '1.2.840.113549.2.9',
  hmacWithSHA384: '1.2.840.113549.2.10',
  hmacWithSHA512: '1.2.840.113549.2.11',
  aes128Cbc: '2.16.840.1.101.3.4.1.2',
  aes192Cbc: '2.16.840.1.101.3.4.1.22',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  desEde3Cbc: '1.2.840.113549.3.7',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
} as const

export type Hash = 'sha1' | 'sha256' | 'sha384' | 'sha512'
const BLOCK: Record<Hash, number> = { sha1: 64, sha256: 64, sha384: 128, sha512: 128 }
const OUT: Record<Hash, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 }
const HMAC_PRF: Record<string, Hash> = { [OID.hmacWithSHA1]: 'sha1', [OID.hmacWithSHA256]: 'sha256', [OID.hmacWithSHA384]: 'sha384', [OID.hmacWithSHA512]: 'sha512' }
export const DIGEST_OID: Record<Hash, string> = { sha1: OID.sha1, sha256: OID.sha256, sha384: OID.sha384, sha512: OID.sha512 }
const CIPHER: Record<string, { name: string; keyLen: number; ivLen: number }> = {
  [OID.aes128Cbc]: { name: 'aes-128-cbc', keyLen: 16, ivLen: 16 },
  [OID.aes192Cbc]: { name: 'aes-192-cbc', keyLen: 24, ivLen: 16 },
  [OID.aes256Cbc]: { name: 'aes-256-cbc', keyLen: 32, ivLen: 16 },
  [OID.desEde3Cbc]: { name: 'des-ede3-cbc', keyLen: 24, ivLen: 8 },
}
// A hostile file could ask for billions of iterations; real exporters use 2000 to 600000.
export const MAX_ITERATIONS = 10_000_000

/** RFC 7292 Appendix B.1: the password as a BMPString with two trailing zero bytes. */
export function bmpPassword(password: string): Uint8Array {
  const out = new Uint8Array(password.length * 2 + 2)
  for (let i = 0; i < password.length; i++) { out[2 * i] = password.charCodeAt(i) >> 8; out[2 * i + 1] = password.charCodeAt(i) & 0xff }
  return out
}

/** RFC 7292 Appendix B.2: derive `n` bytes for purpose `id` (1 key, 2 IV, 3 MAC key). */
export function pkcs12Kdf(hash: Hash, password: string, salt: Uint8Array, id: 1 | 2 | 3, iterations: number, n: number): Uint8Array {
  const v = BLOCK[hash], u = OUT[hash]
  const D = new Uint8Array(v).fill(id)
  const fill = (src: Uint8Array): Uint8Array => {
    const out = new Uint8Array(src.length === 0 ? 0 : v * Math.ceil(src.length / v))
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!
    return out
  }
  const P = bmpPassword(password)
  const I = Buffer.concat([fill(salt), fill(P)])
  const out = new Uint8Array(n)
  for (let done = 0; done < n;) {
    let A: Uint8Array = createHash(hash).update(D).update(I).digest()
    for (let r = 1; r < iterations; r++) A = createHash(hash).update(A).digest()
    out.set(A.subarray(0, Math.min(u, n - done)), done)
    done += u
    if (done >= n) break
    // I_j = (I_j + B + 1) mod 2^(8v) for each v-byte block, B = A repeated to v bytes.
    for (let j = 0; j < I.length; j += v) {
      let carry = 1
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k]! + A[k % u]! + carry
        I[j + k] = sum & 0xff
        carry = sum >> 8
      }
    }
  }
  return out
}

export type PbeScheme = 'pbes2-aes256-sha256' | 'pkcs12-3des-sha1'

/** Encrypts `data` under `password`; returns the AlgorithmIdentifier and the ciphertext. */
export function pbeEncrypt(scheme: PbeScheme, password: string, data: Uint8Array, iterations: number): { algorithm: Asn1; ciphertext: Uint8Array } {
  // 8-byte salts: OpenSSL's default, and a 16-byte PKCS#12 salt has been seen to break the macOS
  // keychain import (see pkcs12.ts).
  const salt = randomBytes(8)
  if (scheme === 'pkcs12-3des-sha1') {
    const key = pkcs12Kdf('sha1', password, salt, 1, iterations, 24)
    const iv = pkcs12Kdf('sha1', password, salt, 2, iterations, 8)
    const c = createCipheriv('des-ede3-cbc', key, iv)
    const ciphertext = Buffer.concat([c.update(data), c.final()])
    key.fill(0)
    return { algorithm: der.seq(der.oid(OID.pbeWithSHAAnd3KeyTripleDesCbc), der.seq(der.octets(salt), der.int(iterations))), ciphertext }
  }
  const iv = randomBytes(16)
  // RFC 8018 §6.2.1: PBKDF2 over the password octets (UTF-8; our passwords are printable ASCII).
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256')
  const c = createCipheriv('aes-256-cbc', key, iv)
  const ciphertext = Buffer.concat([c.update(data), c.final()])
  key.fill(0)
  const algorithm = der.seq(der.oid(OID.pbes2), der.seq(
    der.seq(der.oid(OID.pbkdf2), der.seq(der.octets(salt), der.int(iterations), der.seq(der.oid(OID.hmacWithSHA256), der.null()))),
    der.seq(der.oid(OID.aes256Cbc), der.octets(iv)),
  ))
  return { algorithm, ciphertext }
}

function iterationsOf(a: Asn1 | undefined, what: string): number {
  const n = intOf(a, what, MAX_ITERATIONS)
  if (n < 1) bad(what)
  return n
}

/**
 * Decrypts under the AlgorithmIdentifier `algorithm` (PBES2 with PBKDF2 + AES-CBC or 3DES-CBC, or
 * PKCS#12 3DES). Throws VpnError ERR_PKI for an unsupported scheme (naming it), bad parameters, or
 * a padding failure (wrong password).
 */
export function pbeDecrypt(algorithm: Asn1, password: string, ciphertext: Uint8Array): Uint8Array {
  const oid = oidOf(child(algorithm, 0, 'encryption algorithm'), 'encryption algorithm')
  const params = child(algorithm, 1, 'encryption parameters')
  let name: string, key: Uint8Array, iv: Uint8Array
  if (oid === OID.pbeWithSHAAnd3KeyTripleDesCbc) {
    const salt = bytesOf(child(params, 0, 'PBE salt'), 'PBE salt')
    const iterations = iterationsOf(child(params, 1, 'PBE iterations'), 'PBE iterations')
    name = 'des-ede3-cbc'
    key = pkcs12Kdf('sha1', password, salt, 1, iterations, 24)
    iv = pkcs12Kdf('sha1', password, salt, 2, iterations, 8)
  } else if (oid === OID.pbes2) {
    const kdf = child(params, 0, 'PBES2 key derivation')
    if (oidOf(child(kdf, 0, 'PBES2 KDF'), 'PBES2 KDF') !== OID.pbkdf2) throw new VpnError('ERR_PKI', 'unsupported PBES2 key derivation (only PBKDF2)')
    const kp = children(child(kdf, 1, 'PBKDF2 parameters'), 'PBKDF2 parameters', 2)
    const salt = octetsOf(kp[0], 'PBKDF2 salt')
    const iterations = iterationsOf(kp[1], 'PBKDF2 iterations')
    // keyLength (INTEGER) and prf (SEQUENCE) are both OPTIONAL; prf DEFAULT hmacWithSHA1 (RFC 8018 A.2).
    const prfNode = kp.slice(2).find((x) => Array.isArray(x.value))
    const prf = prfNode ? HMAC_PRF[oidOf(child(prfNode, 0, 'PBKDF2 PRF'), 'PBKDF2 PRF')] : 'sha1'
    if (!prf) throw new VpnError('ERR_PKI', 'unsupported PBKDF2 PRF')
    const enc = child(params, 1, 'PBES2 encryption scheme')
    const cipher = CIPHER[oidOf(child(enc, 0, 'PBES2 cipher'), 'PBES2 cipher')]
    if (!cipher) throw new VpnError('ERR_PKI', 'unsupported PBES2 cipher (AES-CBC or 3DES-CBC only)')
    iv = octetsOf(child(enc, 1, 'PBES2 IV'), 'PBES2 IV')
    if (iv.length !== cipher.ivLen) bad('PBES2 IV')
    name = cipher.name
    key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, cipher.keyLen, prf)
  } else if (oid === OID.pbeWithSHAAnd40BitRc2Cbc) {
    throw new VpnError('ERR_PKI', 'the file uses 40-bit RC2 (openssl -legacy default); export it again with AES or 3DES')
  } else {
    throw new VpnError('ERR_PKI', `unsupported encryption algorithm ${oid}`)
  }
  try {
    const d = createDecipheriv(name, key, iv)
    return Buffer.concat([d.update(ciphertext), d.final()])
  } catch {
    throw new VpnError('ERR_PKI', 'cannot decrypt: wrong password or damaged file')
  } finally {
    key.fill(0)
  }
}

/** RFC 7292 §5 MacData: HMAC over the AuthenticatedSafe with a key from the PKCS#12 KDF (ID 3). */
export function pkcs12Mac(hash: Hash, password: string, salt: Uint8Array, iterations: number, data: Uint8Array): Uint8Array {
  const key = pkcs12Kdf(hash, password, salt, 3, iterations, OUT[hash])
  const mac = createHmac(hash, key).update(data).digest()
  key.fill(0)
  return mac
}

export function macEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

export function hashOfDigestOid(oid: string): Hash | undefined {
  return (Object.keys(DIGEST_OID) as Hash[]).find((h) => DIGEST_OID[h] === oid)
}

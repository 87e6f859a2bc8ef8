// PKCS#12 (RFC 7292) bundles of key + certificate + CA certificate: writing in a modern
// (PBES2/AES-256/SHA-256) or legacy (3DES/SHA-1) profile, and reading them back (§4, §4.2, §5).
import { X509Certificate, createHash, createPrivateKey, createPublicKey, randomBytes } from 'node:crypto'
import { VpnError } from '../lib/errors.js'
import { bad, bytesOf, child, children, der, intOf, octetsOf, oidOf, unbin, type Asn1 } from './der.js'
import { DIGEST_OID, hashOfDigestOid, macEqual, MAX_ITERATIONS, pbeDecrypt, pbeEncrypt, pkcs12Mac, type Hash, type PbeScheme } from './pkcs12-pbe.js'

/*
 * PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo, macData MacData OPTIONAL }
 * MacData ::= SEQUENCE { mac DigestInfo, macSalt OCTET STRING, iterations INTEGER DEFAULT 1 }
 * AuthenticatedSafe ::= SEQUENCE OF ContentInfo   -- data, or encryptedData (RFC 5652 §8)
 * SafeContents ::= SEQUENCE OF SafeBag
 * SafeBag ::= SEQUENCE { bagId OID, bagValue [0] EXPLICIT ANY, bagAttributes SET OF PKCS12Attribute OPTIONAL }
 * CertBag ::= SEQUENCE { certId OID (x509Certificate), certValue [0] EXPLICIT OCTET STRING }
 */
const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
} as const

/**
 * The two write profiles.
 * - modern: PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for key and certificates, HMAC-SHA256 MacData:
 *   what OpenSSL 3 writes by default and what Windows exports as "AES256-SHA256". Windows 10 1709+
 *   and Server 2019+ import it (PKCS12_PBES2_EXPORT_PARAMS, learn.microsoft.com); macOS' keychain
 *   imports OpenSSL 3's default output (reported with 8-byte salts; 16-byte salts broke it, see
 *   ca.stable.confirm.ch/pkcs12.html — so every salt here is 8 bytes).
 * - legacy: pbeWithSHAAnd3-KeyTripleDES-CBC for key and certificates, HMAC-SHA1 MacData: for Windows
 *   before 10 1709 / Server 2016 (PowerShell CertificateDsc#153: AES256-SHA256 files fail there while
 *   TripleDES-SHA1 import), and older macOS/iOS whose importer predates OpenSSL 3's format. We never
 *   write 40-bit RC2 (what `openssl -legacy` uses for certificates).
 */
export const P12_PROFILES = {
  modern: { scheme: 'pbes2-aes256-sha256', mac: 'sha256' },
  legacy: { scheme: 'pkcs12-3des-sha1', mac: 'sha1' },
} as const satisfies Record<string, { scheme: PbeScheme; mac: Hash }>
export type P12Profile = keyof typeof P12_PROFILES

// OpenSSL's and Windows' export count (2048 / 2000). Higher counts slow a brute force linearly, but
// the password policy (>= 12 characters, 3 classes) is the defence that counts; keep what importers
// are known to accept.
export const P12_ITERATIONS = 2048

export interface Pkcs12Input {
  /** The end-entity certificate and its PKCS#8 private key (PEM). */
  readonly certPem: string
  readonly keyPem: string
  /** CA certificates to include (the gateway's CA), PEM. */
  readonly caCertPems: readonly string[]
  /** Printable ASCII only (see checkP12Password). */
  readonly password: string
  readonly friendlyName: string
  readonly profile?: P12Profile
  readonly iterations?: number
}

function pemToDer(pem: string): Uint8Array {
  return new Uint8Array(new X509Certificate(pem).raw)
}

/**
 * Refuses a bundle password that is not printable ASCII (0x20-0x7e): PBES2 takes UTF-8 octets and
 * the PKCS#12 KDF a BMPString, and importers have disagreed about non-ASCII passwords (OpenSSL
 * changed its own encoding in 1.1.0), so such a bundle may not open elsewhere.
 */
export function checkP12Password(password: string): void {
  if (!/^[\x20-\x7e]+$/.test(password)) throw new VpnError('ERR_PKI', 'the bundle password must be printable ASCII (letters, digits, symbols, spaces): importers disagree about other characters')
}

/** Encodes a PFX (DER). Throws VpnError ERR_PKI for a bad password or unreadable PEM input. */
export function encodePkcs12(input: Pkcs12Input): Uint8Array {
  checkP12Password(input.password)
  const { scheme, mac } = P12_PROFILES[input.profile ?? 'modern']
  const iterations = input.iterations ?? P12_ITERATIONS
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) throw new VpnError('ERR_PKI', `iterations must be 1 to ${MAX_ITERATIONS}`)
  let certDer: Uint8Array, keyDer: Uint8Array
  let caDers: Uint8Array[]
  try {
    certDer = pemToDer(input.certPem)
    caDers = input.caCertPems.map(pemToDer)
    keyDer = createPrivateKey(input.keyPem).export({ type: 'pkcs8', format: 'der' })
  } catch (e) {
    throw new VpnError('ERR_PKI', `cannot read the certificate or key: ${(e as Error).message}`, { cause: e })
  }
  // localKeyId pairs the key with its certificate (Windows and macOS match on it): SHA-1 of the
  // certificate, as OpenSSL and Windows do.
  const localKeyId = createHash('sha1').update(certDer).digest()
  const attrs = der.set(
    der.seq(der.oid(OID.friendlyName), der.set(der.bmp(input.friendlyName))),
    der.seq(der.oid(OID.localKeyId), der.set(der.octets(localKeyId))),
  )
  const certBag = (d: Uint8Array, a?: Asn1): Asn1 => der.seq(der.oid(OID.certBag), der.explicit(0, der.seq(der.oid(OID.x509Certificate), der.explicit(0, der.octets(d)))), a)
  const certContents = der.toDer(der.seq(certBag(certDer, attrs), ...caDers.map((d) => certBag(d))))
  const certEnc = pbeEncrypt(scheme, input.password, certContents, iterations)
  // EncryptedData ::= SEQUENCE { version 0, EncryptedContentInfo } (RFC 5652 §8, §6.1)
  const certCi = der.seq(der.oid(OID.encryptedData), der.explicit(0, der.seq(der.int(0),
    der.seq(der.oid(OID.data), certEnc.algorithm, der.implicitBytes(0, certEnc.ciphertext)))))
  const keyEnc = pbeEncrypt(scheme, input.password, keyDer, iterations)
  keyDer.fill(0)
  const keyBag = der.seq(der.oid(OID.pkcs8ShroudedKeyBag), der.explicit(0, der.seq(keyEnc.algorithm, der.octets(keyEnc.ciphertext))), attrs)
  const keyCi = der.seq(der.oid(OID.data), der.explicit(0, der.octets(der.toDer(der.seq(keyBag)))))
  const authSafe = der.toDer(der.seq(certCi, keyCi))
  const macSalt = randomBytes(8)
  const digest = pkcs12Mac(mac, input.password, macSalt, iterations, authSafe)
  return der.toDer(der.seq(
    der.int(3),
    der.seq(der.oid(OID.data), der.explicit(0, der.octets(authSafe))),
    der.seq(der.seq(der.seq(der.oid(DIGEST_OID[mac]), der.null()), der.octets(digest)), der.octets(macSalt), der.int(iterations)),
  ))
}

export interface Pkcs12Contents {
  /** The certificate whose public key matches the private key. */
  readonly certPem: string
  /** PKCS#8 PEM. */
  readonly keyPem: string
  /** Every other certificate in the bundle (normally the CA). */
  readonly caCertPems: readonly string[]
}

function toPem(d: Uint8Array): string {
  return new X509Certificate(d).toString()
}

/**
 * Decodes and decrypts a PFX: verifies the MAC first (constant-time), then opens every bag. Accepts
 * what encodePkcs12 writes and OpenSSL's default and 3DES output. Throws only VpnError ERR_PKI:
 * 'wrong password or damaged file', an unsupported algorithm named, or a missing key/certificate.
 */
export function decodePkcs12(bytes: Uint8Array, password: string): Pkcs12Contents {
  try {
    return decodeInner(bytes, password)
  } catch (e) {
    if (e instanceof VpnError) throw e
    throw new VpnError('ERR_PKI', `not a PKCS#12 file: ${(e as Error).message}`, { cause: e })
  }
}

function decodeInner(bytes: Uint8Array, password: string): Pkcs12Contents {
  const pfx = children(der.fromDer(bytes), 'PFX', 2)
  if (intOf(pfx[0], 'PFX version') !== 3) bad('PFX version')
  const authSafeCi = children(pfx[1], 'authSafe', 2)
  // RFC 7292 §4: with password integrity the authSafe is of type data.
  if (oidOf(authSafeCi[0], 'authSafe type') !== OID.data) throw new VpnError('ERR_PKI', 'only password-integrity PKCS#12 files are supported')
  const authSafe = octetsOf(child(authSafeCi[1], 0, 'authSafe content'), 'authSafe content')
  const macData = pfx[2]
  if (!macData) throw new VpnError('ERR_PKI', 'the file has no MAC; refusing an unauthenticated bundle')
  const digestInfo = children(child(macData, 0, 'MacData'), 'DigestInfo', 2)
  const hash = hashOfDigestOid(oidOf(child(digestInfo[0], 0, 'MAC algorithm'), 'MAC algorithm'))
  if (!hash) throw new VpnError('ERR_PKI', 'unsupported MAC digest')
  const macSalt = bytesOf(child(macData, 1, 'MAC salt'), 'MAC salt')
  const macIterations = children(macData, 'MacData')[2] ? intOf(child(macData, 2, 'MAC iterations'), 'MAC iterations', MAX_ITERATIONS) : 1
  if (macIterations < 1) bad('MAC iterations')
  const expected = pkcs12Mac(hash, password, macSalt, macIterations, authSafe)
  if (!macEqual(expected, bytesOf(digestInfo[1], 'MAC value'))) throw new VpnError('ERR_PKI', 'wrong password or damaged file (MAC check failed)')

  const certs: Uint8Array[] = []
  const keys: Uint8Array[] = []
  for (const ci of children(der.fromDer(authSafe), 'AuthenticatedSafe')) {
    const type = oidOf(child(ci, 0, 'ContentInfo type'), 'ContentInfo type')
    let safeContents: Uint8Array
    if (type === OID.data) {
      safeContents = octetsOf(child(child(ci, 1, 'ContentInfo content'), 0, 'data'), 'data')
    } else if (type === OID.encryptedData) {
      const eci = child(child(child(ci, 1, 'ContentInfo content'), 0, 'EncryptedData'), 1, 'EncryptedContentInfo')
      const encrypted = children(eci, 'EncryptedContentInfo', 3)[2]!
      // [0] IMPLICIT OCTET STRING: primitive, or constructed from parts in BER.
      const ct = typeof encrypted.value === 'string' ? unbin(encrypted.value) : Buffer.concat(children(encrypted, 'encryptedContent').map((p) => bytesOf(p, 'encryptedContent')))
      safeContents = pbeDecrypt(children(eci, 'EncryptedContentInfo')[1]!, password, ct)
    } else {
      throw new VpnError('ERR_PKI', `unsupported ContentInfo ${type} (public-key privacy mode)`)
    }
    for (const bag of children(der.fromDer(safeContents), 'SafeContents')) {
      const id = oidOf(child(bag, 0, 'bagId'), 'bagId')
      const value = child(child(bag, 1, 'bagValue'), 0, 'bagValue')
      if (id === OID.certBag) {
        if (oidOf(child(value, 0, 'certId'), 'certId') !== OID.x509Certificate) continue
        certs.push(octetsOf(child(child(value, 1, 'certValue'), 0, 'certValue'), 'certValue'))
      } else if (id === OID.pkcs8ShroudedKeyBag) {
        const epki = children(value, 'EncryptedPrivateKeyInfo', 2)
        keys.push(pbeDecrypt(epki[0]!, password, octetsOf(epki[1], 'encrypted key')))
      } else if (id === OID.keyBag) {
        keys.push(der.toDer(value))
      }
      // CRL, secret and nested bags are not needed for a machine certificate; ignored.
    }
  }
  if (keys.length !== 1) throw new VpnError('ERR_PKI', `expected one private key in the bundle, found ${keys.length}`)
  const key = createPrivateKey({ key: Buffer.from(keys[0]!), format: 'der', type: 'pkcs8' })
  keys[0]!.fill(0)
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' })
  const own = certs.findIndex((c) => Buffer.from(new X509Certificate(c).publicKey.export({ type: 'spki', format: 'der' })).equals(spki))
  if (own < 0) throw new VpnError('ERR_PKI', 'no certificate in the bundle matches its private key')
  return {
    certPem: toPem(certs[own]!),
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }) as string,
    caCertPems: certs.filter((_, i) => i !== own).map(toPem),
  }
}

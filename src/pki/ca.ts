// Private certification authority for the gateway: the self-signed CA `gatehouse init` makes,
// loadCa (a checked CA ready to sign), the TLS/IKE server certificate of `init`, and inspection of
// a certificate (RFC 5280 §4.1, §4.2.1). Keys come from node:crypto; machine certificates: issue.ts.
import { X509Certificate, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import forge from 'node-forge'
import { VpnError } from '../lib/errors.js'
import { issueCert } from './issue.js'

export interface PemPair { readonly certPem: string; readonly keyPem: string }

/** iKEIntermediate EKU (1.3.6.1.5.5.8.2.2): what Windows' IKEv2 client looks for on a gateway certificate. */
export const OID_IKE_INTERMEDIATE = '1.3.6.1.5.5.8.2.2'

// Certificates start five minutes in the past so a client whose clock is slightly behind accepts them.
export const BACKDATE_MS = 5 * 60_000

function newKey(bits: number): { keyPem: string; forgeKey: forge.pki.rsa.PrivateKey; forgePub: forge.pki.rsa.PublicKey } {
  // node:crypto generates RSA keys in native code (fast); forge only signs with them.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits })
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }) as string
  const forgeKey = forge.pki.privateKeyFromPem(pkcs1)
  const forgePub = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e)
  return { keyPem, forgeKey, forgePub }
}

/** A positive serial of 16 random bytes (hex) (RFC 5280 §4.1.2.2: positive, at most 20 octets; CAs/B §7.1: >= 64 random bits). */
export function randomSerialHex(): string {
  const b = randomBytes(16)
  b[0] = (b[0]! & 0x7f) | 0x01 // clear the sign bit; non-zero first byte keeps DER minimal
  return b.toString('hex')
}

function validity(cert: forge.pki.Certificate, days: number): void {
  if (!Number.isInteger(days) || days < 1 || days > 36500) throw new VpnError('ERR_PKI', `validity must be 1 to 36500 days, got ${days}`)
  const now = new Date().getTime()
  cert.validity.notBefore = new Date(now - BACKDATE_MS)
  cert.validity.notAfter = new Date(now + days * 86_400_000)
}

export function checkCommonName(cn: string): void {
  // X.520 ub-common-name is 64 characters (RFC 5280 Appendix A.1).
  if (cn.length < 1 || cn.length > 64) throw new VpnError('ERR_PKI', `common name must be 1 to 64 characters, got ${cn.length}`)
}

/**
 * Creates a self-signed CA: RSA (3072 bits by default), SHA-256, basicConstraints CA:true critical,
 * keyUsage keyCertSign+cRLSign critical, subjectKeyIdentifier. `days` defaults to 3650.
 * keyPem is PKCS#8; keep it private (mode 0600).
 */
export function createCa(opts: { commonName: string; days?: number; keyBits?: 2048 | 3072 | 4096 }): PemPair {
  checkCommonName(opts.commonName)
  const { keyPem, forgeKey, forgePub } = newKey(opts.keyBits ?? 3072)
  const cert = forge.pki.createCertificate()
  cert.publicKey = forgePub
  cert.serialNumber = randomSerialHex()
  validity(cert, opts.days ?? 3650)
  const name = [{ shortName: 'CN', value: opts.commonName }, { shortName: 'O', value: 'Gatehouse' }]
  cert.setSubject(name)
  cert.setIssuer(name)
  cert.setExtensions([
    // RFC 5280 §4.2.1.9: conforming CAs MUST mark basicConstraints critical in CA certificates.
    { name: 'basicConstraints', cA: true, critical: true },
    // RFC 5280 §4.2.1.3: "conforming CAs SHOULD mark this extension as critical".
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    // RFC 5280 §4.2.1.2: MUST appear in all conforming CA certificates.
    { name: 'subjectKeyIdentifier' },
  ])
  cert.sign(forgeKey, forge.md.sha256.create())
  return { certPem: forge.pki.certificateToPem(cert), keyPem }
}

/** A CA read from its PEM pair, ready to sign: see loadCa. */
export interface LoadedCa {
  readonly certPem: string
  readonly cert: forge.pki.Certificate
  /** The CA's DER certificate (its subject Name is copied verbatim into what it signs). */
  readonly certDer: Uint8Array
  readonly key: ReturnType<typeof createPrivateKey>
  /** The CA's subjectKeyIdentifier (or the RFC 5280 §4.2.1.2 (1) hash if it has none). */
  readonly keyId: Uint8Array
}

/**
 * Reads and checks a CA: the key must belong to the certificate and the certificate must be a CA
 * (basicConstraints CA:true) with an RSA key. Throws VpnError ERR_PKI otherwise.
 */
export function loadCa(ca: PemPair): LoadedCa {
  let cert: forge.pki.Certificate
  let key: ReturnType<typeof createPrivateKey>
  let x: X509Certificate
  try {
    x = new X509Certificate(ca.certPem)
    cert = forge.pki.certificateFromPem(ca.certPem)
    key = createPrivateKey(ca.keyPem)
  } catch (e) {
    throw new VpnError('ERR_PKI', `cannot read the CA certificate or key: ${(e as Error).message}`, { cause: e })
  }
  if (key.asymmetricKeyType !== 'rsa') throw new VpnError('ERR_PKI', 'the CA key must be RSA')
  if (!x.checkPrivateKey(key)) throw new VpnError('ERR_PKI', 'the CA key does not belong to the CA certificate')
  const bc = cert.getExtension('basicConstraints') as { cA?: boolean } | undefined
  if (!bc?.cA) throw new VpnError('ERR_PKI', 'the CA certificate is not a CA (basicConstraints CA:true missing)')
  const ski = (cert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined)?.subjectKeyIdentifier
  const keyId = ski ? new Uint8Array(Buffer.from(ski, 'hex')) : new Uint8Array(Buffer.from(cert.generateSubjectKeyIdentifier().getBytes(), 'binary'))
  return { certPem: ca.certPem, cert, certDer: new Uint8Array(x.raw), key, keyId }
}

/**
 * Issues a TLS/IKE server certificate signed by `ca` (RSA 2048, SHA-256, SAN with every DNS name
 * and IP address, EKU serverAuth + IKE intermediate; see issueCert in issue.ts for the profile).
 * `days` defaults to 825 (Apple's limit for TLS server certificates). Throws VpnError ERR_PKI for
 * a CA key that does not match the CA certificate or a CA certificate without CA:true, and for a
 * malformed name or address.
 */
export function issueServerCert(ca: PemPair, opts: { commonName: string; dnsNames: readonly string[]; ipAddresses: readonly string[]; days?: number }): PemPair {
  const c = issueCert(loadCa(ca), { kind: 'server', commonName: opts.commonName, dnsNames: opts.dnsNames, ipAddresses: opts.ipAddresses, days: opts.days ?? 825 })
  return { certPem: c.certPem, keyPem: c.keyPem }
}

export interface CertInfo {
  readonly subject: string
  readonly issuer: string
  readonly dnsNames: readonly string[]
  readonly ipAddresses: readonly string[]
  readonly validFrom: Date
  readonly validTo: Date
  /** Upper-case hex pairs separated by ':' (as browsers and Windows show it). */
  readonly fingerprint256: string
  readonly serialNumber: string
  readonly isCa: boolean
}

/** Reads a PEM certificate with node:crypto. Throws VpnError ERR_PKI if it does not parse. */
export function certInfo(pem: string): CertInfo {
  let x: X509Certificate
  try {
    x = new X509Certificate(pem)
  } catch (e) {
    throw new VpnError('ERR_PKI', `not a PEM certificate: ${(e as Error).message}`, { cause: e })
  }
  const dnsNames: string[] = []
  const ipAddresses: string[] = []
  // Node renders the SAN as "DNS:a, IP Address:1.2.3.4"; names were validated LDH at issue time.
  for (const part of (x.subjectAltName ?? '').split(', ')) {
    if (part.startsWith('DNS:')) dnsNames.push(part.slice(4))
    else if (part.startsWith('IP Address:')) ipAddresses.push(part.slice(11))
  }
  return {
    subject: x.subject, issuer: x.issuer, dnsNames, ipAddresses,
    validFrom: new Date(x.validFrom), validTo: new Date(x.validTo),
    fingerprint256: x.fingerprint256, serialNumber: x.serialNumber, isCa: x.ca,
  }
}

/** The public key of a PEM certificate, for X509Certificate.verify in callers and tests. */
export function certPublicKey(pem: string): ReturnType<typeof createPublicKey> {
  return new X509Certificate(pem).publicKey
}

// Machine certificates for L2TP/IPsec, IKE and TLS, signed by the gateway CA: the client and
// server profiles (RFC 5280 §4.1, §4.2.1.2/.3/.6/.9/.12; RFC 4945 §5.1.3 for IPsec use).
import { X509Certificate, createHash, generateKeyPairSync, sign } from 'node:crypto'
import { isIP } from 'node:net'
import forge from 'node-forge'
import { VpnError } from '../lib/errors.js'
import { BACKDATE_MS, checkCommonName, OID_IKE_INTERMEDIATE, randomSerialHex, type LoadedCa } from './ca.js'
import { der, unbin } from './der.js'

/*
 * What the platforms check, and the extension that satisfies each:
 * - Windows (RRAS and the built-in client, L2TP/IPsec with machine certificates): since Vista the
 *   client verifies that the gateway's subjectAltName or subject names the host it dialled and that
 *   the EKU allows authentication (the RRAS team's "Verification of Additional Fields in Peer
 *   Certificates during IKE Negotiation" post); the EKU it looks for is serverAuth (MS-RRASM
 *   §2.2.2.2.35 DisableIKENameEkuCheck, the switch that turns this check off); for IKEv2 the
 *   gateway certificate needs serverAuth
 *   (1.3.6.1.5.5.7.3.1) and IP security IKE intermediate (1.3.6.1.5.5.8.2.2) and a subject/SAN with
 *   the public name clients use (Always On VPN certificate requirements). The client's certificate
 *   lives in the Local Computer store and needs clientAuth; we add IKE intermediate as well.
 * - macOS/iOS: want a subjectAltName on both ends that matches the identity (CN alone is not
 *   enough), and serverAuth on the gateway; keyUsage digitalSignature for signing IKE AUTH/SIG.
 * - strongSwan: matches the peer identity against subject DN or SAN; honours keyUsage/EKU when present.
 * RFC 5280 §4.2.1.12: with an EKU present a certificate is only for those purposes, so each profile
 * lists every purpose it serves. keyEncipherment is for RSA key transport (TLS_RSA, IKEv1 encrypted
 * nonces) and is meaningless for an ECDSA key, so ECDSA certificates carry digitalSignature only.
 */
/*
 * TBSCertificate ::= SEQUENCE {                       (RFC 5280 §4.1)
 *   version [0] EXPLICIT v3, serialNumber INTEGER, signature AlgorithmIdentifier, issuer Name,
 *   validity SEQUENCE { notBefore Time, notAfter Time }, subject Name,
 *   subjectPublicKeyInfo SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING },
 *   extensions [3] EXPLICIT SEQUENCE OF Extension }
 * forge builds this for us; we swap in the real subjectPublicKeyInfo (forge only knows RSA keys)
 * and sign the DER with node:crypto.
 */
export type CertKind = 'client' | 'server'
export type KeyType = 'rsa' | 'ecdsa'

export const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1'
export const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2'
const OID_SHA256_WITH_RSA = '1.2.840.113549.1.1.11'

/** Default lifetimes: two years for machine certificates (under Apple's 825-day TLS limit). */
export const DEFAULT_DAYS: Record<CertKind, number> = { client: 730, server: 730 }

export interface IssueOptions {
  readonly kind: CertKind
  readonly commonName: string
  /** Server: at least one DNS name or IP. Client: optional; see clientAltNames. */
  readonly dnsNames?: readonly string[]
  readonly ipAddresses?: readonly string[]
  readonly days?: number
  /** 'rsa' (2048, default) or 'ecdsa' (P-256). */
  readonly keyType?: KeyType
  /** Clock for notBefore/notAfter (tests). */
  readonly now?: Date
}

export interface IssuedCert {
  readonly certPem: string
  /** PKCS#8 PEM; keep it private. */
  readonly keyPem: string
  /** Lower-case hex, no leading zero octets (as recorded in issued.json). */
  readonly serial: string
  readonly notBefore: Date
  readonly notAfter: Date
  readonly fingerprint256: string
}

const LDH = /^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/

/** Whether `s` is an LDH host name (RFC 1123 §2.1; a leading "*." label allowed, RFC 6125 §6.4.3). */
export function isDnsName(s: string): boolean {
  return s.length <= 253 && LDH.test(s)
}

/**
 * A client certificate names its holder in the SAN too (macOS matches the local identity against
 * the SAN): rfc822Name for "user@domain", dNSName for a host-like name, none otherwise.
 */
function clientAltNames(cn: string): { type: number; value: string }[] {
  if (/^[^@\s]+@[A-Za-z0-9.-]+$/.test(cn)) return [{ type: 1, value: cn }]
  if (isDnsName(cn) && !cn.startsWith('*')) return [{ type: 2, value: cn }]
  return []
}

/**
 * Issues a certificate signed by `ca` with a fresh key (RSA 2048 or ECDSA P-256 from node:crypto),
 * SHA-256 with the CA's RSA key, a random 128-bit serial, AKI = the CA's key id, SKI (RFC 5280
 * §4.2.1.2 method 1). Throws VpnError ERR_PKI for a bad name, address or lifetime.
 */
export function issueCert(ca: LoadedCa, opts: IssueOptions): IssuedCert {
  checkCommonName(opts.commonName)
  const days = opts.days ?? DEFAULT_DAYS[opts.kind]
  if (!Number.isInteger(days) || days < 1 || days > 36500) throw new VpnError('ERR_PKI', `validity must be 1 to 36500 days, got ${days}`)
  const altNames: { type: number; value?: string; ip?: string }[] = []
  for (const d of opts.dnsNames ?? []) {
    if (!isDnsName(d)) throw new VpnError('ERR_PKI', `not a DNS name: ${JSON.stringify(d)}`)
    altNames.push({ type: 2, value: d }) // dNSName
  }
  for (const ip of opts.ipAddresses ?? []) {
    if (isIP(ip) === 0) throw new VpnError('ERR_PKI', `not an IP address: ${JSON.stringify(ip)}`)
    altNames.push({ type: 7, ip }) // iPAddress
  }
  if (opts.kind === 'server' && altNames.length === 0) throw new VpnError('ERR_PKI', 'a server certificate needs at least one DNS name or IP address (clients match the subjectAltName)')
  if (opts.kind === 'client' && altNames.length === 0) altNames.push(...clientAltNames(opts.commonName))

  const keyType = opts.keyType ?? 'rsa'
  const pair = keyType === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const spkiDer = new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' }))
  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm, subjectPublicKey BIT STRING }; the SKI is the
  // SHA-1 of the BIT STRING's bits (RFC 5280 §4.2.1.2 (1)).
  const spkiAsn = der.fromDer(spkiDer)
  const bits = unbin((spkiAsn.value as forge.asn1.Asn1[])[1]!.value as string).subarray(1)
  const ski = createHash('sha1').update(bits).digest()

  const cert = forge.pki.createCertificate()
  // forge can only encode RSA keys; for ECDSA a stand-in is replaced by the real SPKI below.
  cert.publicKey = keyType === 'rsa'
    ? forge.pki.publicKeyFromPem(pair.publicKey.export({ type: 'spki', format: 'pem' }) as string)
    : forge.pki.setRsaPublicKey(new forge.jsbn.BigInteger('3'), new forge.jsbn.BigInteger('3'))
  const serial = randomSerialHex()
  cert.serialNumber = serial
  const now = (opts.now ?? new Date()).getTime()
  cert.validity.notBefore = new Date(now - BACKDATE_MS)
  cert.validity.notAfter = new Date(now + days * 86_400_000)
  cert.setSubject([{ shortName: 'CN', value: opts.commonName }, { shortName: 'O', value: 'Gatehouse' }])
  cert.setIssuer(ca.cert.subject.attributes)
  const eku = opts.kind === 'server' ? { serverAuth: true } : { clientAuth: true }
  cert.setExtensions([
    // RFC 5280 §4.2.1.9: end entities carry cA FALSE; critical is allowed and what Windows issues.
    { name: 'basicConstraints', cA: false, critical: true },
    // RFC 5280 §4.2.1.3: "conforming CAs SHOULD mark this extension as critical".
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: keyType === 'rsa', critical: true },
    { name: 'extKeyUsage', ...eku, [OID_IKE_INTERMEDIATE]: true },
    ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
    { id: '2.5.29.14', value: forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.OCTETSTRING, false, Buffer.from(ski).toString('binary')) },
    // RFC 5280 §4.2.1.1: MUST be included in all certificates generated by conforming CAs (except self-signed).
    { name: 'authorityKeyIdentifier', keyIdentifier: Buffer.from(ca.keyId).toString('binary') },
  ])
  cert.siginfo.algorithmOid = OID_SHA256_WITH_RSA
  // getTBSCertificate exists in forge 1.x but not in @types/node-forge.
  const tbs = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert)
  ;(tbs.value as forge.asn1.Asn1[])[6] = spkiAsn // TBSCertificate field 7: subjectPublicKeyInfo
  const tbsDer = der.toDer(tbs)
  // RSASSA-PKCS1-v1_5 (RFC 4055 §5), not PSS: Apple's IKE clients do not accept RSA-PSS
  // (strongswan/strongswan discussion #2267) and Windows 7/8 predate it.
  const signature = sign('sha256', tbsDer, ca.key)
  const certDer = der.toDer(der.seq(tbs, der.seq(der.oid(OID_SHA256_WITH_RSA), der.null()), der.bits(signature)))
  const x = new X509Certificate(certDer)
  return {
    certPem: x.toString(),
    keyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    serial: normalizeSerial(serial),
    notBefore: cert.validity.notBefore,
    notAfter: cert.validity.notAfter,
    fingerprint256: x.fingerprint256,
  }
}

/** Lower-case hex without leading zero octets, so "00AB:CD" and "abcd" compare equal; '' if not hex. */
export function normalizeSerial(s: string): string {
  const h = s.replace(/:/g, '').toLowerCase()
  if (!/^[0-9a-f]+$/.test(h)) return ''
  const even = h.length % 2 ? '0' + h : h
  let i = 0
  while (i < even.length - 2 && even.startsWith('00', i)) i += 2
  return even.slice(i)
}

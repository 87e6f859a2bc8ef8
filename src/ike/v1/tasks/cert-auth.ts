// Certificate pieces of IKEv1 signature authentication (RFC 2409 §5.1, RFC 4945 §3): our credentials and
// their auth method, CR payloads naming our CAs (RFC 2408 §3.10), the peer's CERT checked by src/pki and
// its ID matched against the certificate (RFC 4945 §3.1: the ID must be bound to the certificate).
import { createPrivateKey } from 'node:crypto'
import type { KeyObject, X509Certificate } from 'node:crypto'
import { bytesEqual } from '../../../lib/bytes.js'
import { children, der } from '../../../pki/der.js'
import { verifyPeerCertificate } from '../../../pki/peer.js'
import type { PeerRole } from '../../../pki/peer.js'
import type { Revocation } from '../../../pki/issued.js'
import { CertEncoding, IdType, NotifyType } from '../constants.js'
import { OakleyAuth } from '../oakley.js'
import type { IsakmpPayload } from '../message/payloads.js'
import type { IkeIdentity } from '../ike-sa.js'

/** Our certificate (DER) and its private key (PEM, PKCS#8 or PKCS#1). */
export interface IkeCredentials { readonly certDer: Uint8Array; readonly keyPem: string }

/**
 * Whom we believe: CA certificates that issue peer certificates directly, an optional revocation view,
 * and the wall clock in ms since the epoch (protocol cores take no clock of their own; the endpoint's
 * `now` is a monotonic timer, not a date a certificate's validity can be compared with).
 */
export interface IkeTrust {
  readonly anchors: readonly X509Certificate[]
  readonly revocation?: Revocation
  readonly wallClock: () => number
  /**
   * The name or address a client dialled: the gateway's certificate must list it in subjectAltName (DNS
   * name, case-insensitive, or IP address), as a TLS client checks its server (RFC 4945 §3.1 leaves this
   * to policy; Windows checks it too). Only for the role 'server' (a gateway we dial).
   */
  readonly expectName?: string
}

/** Loaded credentials: the key object, the method it signs with, and the DN identity of the certificate. */
export interface Signer {
  readonly key: KeyObject
  readonly method: number
  readonly certDer: Uint8Array
  readonly id: IkeIdentity
}

/** The TBSCertificate subject Name's DER (RFC 5280 §4.1), as ID_DER_ASN1_DN carries it (RFC 4945 §3.1.5). */
export function subjectDerOf(certDer: Uint8Array): Uint8Array {
  const tbs = children(children(der.fromDer(certDer), 'Certificate', 3)[0], 'TBSCertificate', 6)
  const v3 = tbs[0]!.tagClass === 0x80 && tbs[0]!.type === 0
  return der.toDer(tbs[v3 ? 5 : 4]!)
}

/** RSA keys sign with method 3 (RFC 2409 App. A); EC keys with the RFC 4754 method of their curve. */
export function signatureMethodFor(key: KeyObject): number {
  if (key.asymmetricKeyType === 'rsa') return OakleyAuth.RsaSignatures
  const curve = key.asymmetricKeyDetails?.namedCurve
  if (key.asymmetricKeyType === 'ec' && curve === 'prime256v1') return OakleyAuth.EcdsaP256Sha256
  if (key.asymmetricKeyType === 'ec' && curve === 'secp384r1') return OakleyAuth.EcdsaP384Sha384
  if (key.asymmetricKeyType === 'ec' && curve === 'secp521r1') return OakleyAuth.EcdsaP521Sha512
  throw new RangeError(`no IKEv1 signature method for a ${key.asymmetricKeyType ?? 'unknown'} key`)
}

/** Reads credentials once (configuration time: throws on a bad key or certificate). */
export function loadSigner(c: IkeCredentials): Signer {
  const key = createPrivateKey(c.keyPem)
  return { key, method: signatureMethodFor(key), certDer: new Uint8Array(c.certDer), id: { idType: IdType.DerAsn1Dn, data: subjectDerOf(c.certDer) } }
}

/** RFC 2408 §3.10: one CR per CA we trust, naming it by its subject DN (what strongSwan and Windows send). */
export function certRequests(trust: IkeTrust): IsakmpPayload[] {
  return trust.anchors.map((a) => ({ payload: 'cr', encoding: CertEncoding.X509Signature, authority: subjectDerOf(new Uint8Array(a.raw)) }))
}

export type PeerCheck =
  | { readonly ok: true; readonly key: KeyObject; readonly serial: string; readonly subject: string }
  | { readonly ok: false; readonly reason: string; readonly notify: number }

/** The certificate lists `host` in subjectAltName: a DNS name (case-insensitive) or the IP address as dialled. */
export function namesHost(v: { dnsNames: readonly string[]; ipAddresses: readonly string[] }, host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '')
  return v.dnsNames.some((d) => d.toLowerCase() === h) || v.ipAddresses.includes(h)
}

/** The ID payload names what the certificate names: the subject DN byte for byte, or a SAN entry. */
export function idMatchesCertificate(id: IkeIdentity, v: { subjectDer: Uint8Array; dnsNames: readonly string[]; ipAddresses: readonly string[]; emails: readonly string[] }): boolean {
  const text = Buffer.from(id.data).toString('latin1')
  switch (id.idType) {
    case IdType.DerAsn1Dn: return bytesEqual(id.data, v.subjectDer)
    case IdType.Fqdn: return v.dnsNames.some((d) => d.toLowerCase() === text.toLowerCase())
    case IdType.UserFqdn: return v.emails.some((e) => e.toLowerCase() === text.toLowerCase())
    case IdType.Ipv4Addr: return id.data.length === 4 && v.ipAddresses.includes(Array.from(id.data).join('.'))
    case IdType.Ipv6Addr: {
      if (id.data.length !== 16) return false
      // Same spelling as pki/peer.ts gives SAN addresses: eight hex groups, no compression.
      const s = Array.from({ length: 8 }, (_, i) => ((id.data[2 * i]! << 8) | id.data[2 * i + 1]!).toString(16)).join(':')
      return v.ipAddresses.includes(s)
    }
    default: return false
  }
}

/**
 * Checks the peer's CERT payloads (X.509 signature encoding only) for `role` and binds `id` to the one
 * that verifies. A certificate that fails is AUTHENTICATION-FAILED; a good one naming someone else than
 * the ID is INVALID-ID-INFORMATION (RFC 2408 §3.14.1). Never throws.
 */
export function checkPeerCertificate(certs: readonly IsakmpPayload[], id: IkeIdentity, trust: IkeTrust, role: PeerRole): PeerCheck {
  const x509 = certs.flatMap((c) => (c.payload === 'cert' && c.encoding === CertEncoding.X509Signature ? [c.data] : []))
  if (x509.length === 0) return { ok: false, reason: 'no X.509 certificate (CERT encoding 4) from the peer', notify: NotifyType.AuthenticationFailed }
  let first: PeerCheck | undefined
  for (const certDer of x509) {
    const v = verifyPeerCertificate(certDer, { anchors: trust.anchors, ...(trust.revocation ? { revocation: trust.revocation } : {}), now: trust.wallClock(), role })
    if (!v.ok) { first ??= { ok: false, reason: `peer certificate ${v.reason}: ${v.detail}`, notify: NotifyType.AuthenticationFailed }; continue }
    const subject = v.cert.subject.replace(/\n/g, ', ')
    if (!idMatchesCertificate(id, v)) { first ??= { ok: false, reason: `the peer's ID does not match its certificate (${subject})`, notify: NotifyType.InvalidIdInformation }; continue }
    if (role === 'server' && trust.expectName !== undefined && !namesHost(v, trust.expectName)) {
      first ??= { ok: false, reason: `the gateway's certificate (${subject}) is not valid for "${trust.expectName}": it names ${[...v.dnsNames, ...v.ipAddresses].join(', ') || 'no DNS name or address'}`, notify: NotifyType.AuthenticationFailed }
      continue
    }
    return { ok: true, key: v.cert.publicKey, serial: v.serial, subject }
  }
  return first!
}

// Checking a certificate a peer presents in IKE (CERT payload) or TLS: issued by a trusted CA,
// in its validity period, not revoked, an end entity, usable for signing and for the peer's role
// (RFC 5280 §6.1 for a one-level path, §4.2.1.3 keyUsage, §4.2.1.12 EKU; RFC 4945 §5.1.3).
// Pure: no files, no clock; the caller passes the anchors, the revocation view and the time.
import { X509Certificate } from 'node:crypto'
import { isIP } from 'node:net'
import { bytesOf, children, der, oidOf, unbin, type Asn1 } from './der.js'
import { normalizeSerial } from './issue.js'
import type { Revocation } from './issued.js'

export type PeerRole = 'client' | 'server'

export type PeerCertFailure = 'malformed' | 'untrusted' | 'not-yet-valid' | 'expired' | 'revoked' | 'is-ca' | 'wrong-usage'

export type PeerCertVerdict =
  | {
    readonly ok: true
    readonly cert: X509Certificate
    /** normalizeSerial form. */
    readonly serial: string
    /** The subject Name's DER, to compare with an IKE ID_DER_ASN1_DN payload byte for byte. */
    readonly subjectDer: Uint8Array
    /** subjectAltName entries (for ID_FQDN, ID_IPV4_ADDR/ID_IPV6_ADDR, ID_USER_FQDN). */
    readonly dnsNames: readonly string[]
    readonly ipAddresses: readonly string[]
    readonly emails: readonly string[]
  }
  | { readonly ok: false; readonly reason: PeerCertFailure; readonly detail: string }

const EKU = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  ipsecIke: '1.3.6.1.5.5.7.3.17',
  ikeIntermediate: '1.3.6.1.5.5.8.2.2',
  any: '2.5.29.37.0',
} as const

/*
 * Usage policy. keyUsage, when present, must allow digitalSignature: IKE signs AUTH/SIG payloads
 * with the key (RFC 4945 §5.1.3.2 accepts digitalSignature or nonRepudiation; we ask for the one
 * signing needs). EKU, when present, must contain a purpose for the role; a certificate without
 * EKU is not restricted (RFC 5280 §4.2.1.12).
 * - server (a gateway we dial): serverAuth — what Windows checks on the RRAS certificate
 *   (MS-RRASM §2.2.2.2.35 DisableIKENameEkuCheck) — or ipsecIKE or anyExtendedKeyUsage. Not
 *   iKEIntermediate alone: our client certificates carry it, and a client must not pass for the
 *   gateway to another client.
 * - client (a peer dialling us): clientAuth, ipsecIKE, iKEIntermediate or anyExtendedKeyUsage; a
 *   gateway's server certificate (serverAuth + iKEIntermediate) therefore also works for a
 *   site-to-site initiator.
 */
const ROLE_EKU: Record<PeerRole, readonly string[]> = {
  server: [EKU.serverAuth, EKU.ipsecIke, EKU.any],
  client: [EKU.clientAuth, EKU.ipsecIke, EKU.ikeIntermediate, EKU.any],
}

function fail(reason: PeerCertFailure, detail: string): PeerCertVerdict {
  return { ok: false, reason, detail }
}

interface Parsed { subjectDer: Uint8Array; extensions: Map<string, Uint8Array> }

/** TBSCertificate ::= SEQUENCE { [0] version, serial, signature, issuer, validity, subject, spki, ..., [3] extensions } */
function parseTbs(certDer: Uint8Array): Parsed {
  const tbs = children(children(der.fromDer(certDer), 'Certificate', 3)[0], 'TBSCertificate', 6)
  const v3 = tbs[0]!.tagClass === 0x80 && tbs[0]!.type === 0
  const subject = tbs[v3 ? 5 : 4]!
  const extensions = new Map<string, Uint8Array>()
  const extField = tbs.find((f) => f.tagClass === 0x80 && f.type === 3)
  if (extField) {
    for (const ext of children(children(extField, 'extensions', 1)[0], 'Extensions')) {
      const parts = children(ext, 'Extension', 2)
      extensions.set(oidOf(parts[0], 'extnID'), bytesOf(parts[parts.length - 1], 'extnValue'))
    }
  }
  return { subjectDer: der.toDer(subject), extensions }
}

function altNames(value: Uint8Array | undefined): { dns: string[]; ip: string[]; email: string[] } {
  const out = { dns: [] as string[], ip: [] as string[], email: [] as string[] }
  if (!value) return out
  for (const gn of children(der.fromDer(value), 'GeneralNames') as Asn1[]) {
    if (gn.tagClass !== 0x80 || typeof gn.value !== 'string') continue // other name forms are not identities we match
    const raw = unbin(gn.value)
    if (gn.type === 1) out.email.push(Buffer.from(raw).toString('latin1'))
    else if (gn.type === 2) out.dns.push(Buffer.from(raw).toString('latin1'))
    else if (gn.type === 7 && raw.length === 4) out.ip.push(raw.join('.'))
    else if (gn.type === 7 && raw.length === 16) {
      const v6 = Array.from({ length: 8 }, (_, i) => ((raw[2 * i]! << 8) | raw[2 * i + 1]!).toString(16)).join(':')
      if (isIP(v6) === 6) out.ip.push(v6)
    }
  }
  return out
}

/**
 * Verifies `certDer` for a peer in `role` against `anchors` (CA certificates that issue directly:
 * one-level paths only, which is what `gatehouse ca` produces), at time `now` (ms since the
 * epoch). Never throws: malformed input is { ok: false, reason: 'malformed' }.
 */
export function verifyPeerCertificate(certDer: Uint8Array, opts: { readonly anchors: readonly X509Certificate[]; readonly revocation?: Revocation; readonly now: number; readonly role: PeerRole }): PeerCertVerdict {
  let cert: X509Certificate
  let parsed: Parsed
  let names: ReturnType<typeof altNames>
  try {
    cert = new X509Certificate(certDer)
    parsed = parseTbs(certDer)
    names = altNames(parsed.extensions.get('2.5.29.17'))
  } catch (e) {
    return fail('malformed', (e as Error).message)
  }
  const anchor = opts.anchors.find((a) => cert.checkIssued(a) && cert.verify(a.publicKey))
  if (!anchor) return fail('untrusted', `${cert.subject.replace(/\n/g, ', ')} is not signed by a trusted CA`)
  if (opts.now < Date.parse(cert.validFrom)) return fail('not-yet-valid', `valid from ${cert.validFrom}`)
  if (opts.now > Date.parse(cert.validTo)) return fail('expired', `expired ${cert.validTo}`)
  if (opts.now > Date.parse(anchor.validTo) || opts.now < Date.parse(anchor.validFrom)) return fail('untrusted', `the CA certificate is outside its validity (${anchor.validFrom} - ${anchor.validTo})`)
  const serial = normalizeSerial(cert.serialNumber)
  if (opts.revocation?.isRevoked(serial)) return fail('revoked', `serial ${serial} is revoked`)
  // RFC 5280 §4.2.1.9: only a certificate with cA TRUE may sign others; it is no peer identity.
  if (cert.ca) return fail('is-ca', 'a CA certificate cannot identify a peer')
  try {
    const ku = parsed.extensions.get('2.5.29.15')
    if (ku) {
      // KeyUsage ::= BIT STRING; digitalSignature is bit 0 (the top bit of the first content octet).
      const bits = bytesOf(der.fromDer(ku), 'keyUsage')
      if (bits.length < 2 || !(bits[1]! & 0x80)) return fail('wrong-usage', 'keyUsage does not allow digitalSignature')
    }
    const eku = parsed.extensions.get('2.5.29.37')
    if (eku) {
      const purposes = children(der.fromDer(eku), 'extKeyUsage').map((o) => oidOf(o, 'KeyPurposeId'))
      if (!purposes.some((p) => ROLE_EKU[opts.role].includes(p))) return fail('wrong-usage', `extendedKeyUsage ${purposes.join(', ')} does not allow a ${opts.role}`)
    }
  } catch (e) {
    return fail('malformed', (e as Error).message)
  }
  return { ok: true, cert, serial, subjectDer: parsed.subjectDer, dnsNames: names.dns, ipAddresses: names.ip, emails: names.email }
}

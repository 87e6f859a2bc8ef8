// X.509 v2 certificate revocation lists signed by the gateway CA (RFC 5280 §5.1, §5.2.1 AKI,
// §5.2.3 cRLNumber, §5.3.1 reasonCode). forge has no CRL support, so the TBSCertList is built here.
import { sign } from 'node:crypto'
import { VpnError } from '../lib/errors.js'
import type { LoadedCa } from './ca.js'
import { der, type Asn1 } from './der.js'

/*
 * CertificateList ::= SEQUENCE { tbsCertList TBSCertList, signatureAlgorithm AlgorithmIdentifier,
 *                                signatureValue BIT STRING }
 * TBSCertList ::= SEQUENCE {
 *   version Version OPTIONAL (v2 = 1), signature AlgorithmIdentifier, issuer Name,
 *   thisUpdate Time, nextUpdate Time OPTIONAL,
 *   revokedCertificates SEQUENCE OF SEQUENCE { userCertificate CertificateSerialNumber,
 *       revocationDate Time, crlEntryExtensions Extensions OPTIONAL } OPTIONAL,
 *   crlExtensions [0] EXPLICIT Extensions OPTIONAL }
 */

/** RFC 5280 §5.3.1 CRLReason values an administrator can choose (certificateHold/removeFromCRL are not offered: revocation here is final). */
export const CRL_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  privilegeWithdrawn: 9,
} as const
export type CrlReason = keyof typeof CRL_REASONS

export function isCrlReason(s: string): s is CrlReason {
  return Object.hasOwn(CRL_REASONS, s)
}

export interface CrlEntry {
  /** Hex serial (no sign octet needed). */
  readonly serial: string
  readonly revokedAt: Date
  readonly reason: CrlReason
}

const OID_SHA256_WITH_RSA = '1.2.840.113549.1.1.11'
const OID_REASON_CODE = '2.5.29.21'
const OID_CRL_NUMBER = '2.5.29.20'
const OID_AKI = '2.5.29.35'

function extension(oid: string, value: Asn1): Asn1 {
  return der.seq(der.oid(oid), der.octets(der.toDer(value)))
}

/** The issuer Name of the CA certificate, byte for byte (TBSCertificate field 6, after [0] version). */
function caSubject(ca: LoadedCa): Asn1 {
  const tbs = (der.fromDer(ca.certDer).value as Asn1[])[0]!
  const fields = tbs.value as Asn1[]
  const hasVersion = fields[0]!.tagClass === 0x80
  return fields[hasVersion ? 5 : 4]!
}

/**
 * Builds and signs a CRL (PEM "X509 CRL"). `crlNumber` must grow with every CRL the CA issues
 * (RFC 5280 §5.2.3: "a monotonically increasing sequence number"). Throws VpnError ERR_PKI for a
 * bad serial, number or update window.
 */
export function buildCrl(ca: LoadedCa, entries: readonly CrlEntry[], opts: { crlNumber: number; thisUpdate: Date; nextUpdate: Date }): string {
  if (!Number.isSafeInteger(opts.crlNumber) || opts.crlNumber < 1) throw new VpnError('ERR_PKI', `bad CRL number ${opts.crlNumber}`)
  if (!(opts.nextUpdate.getTime() > opts.thisUpdate.getTime())) throw new VpnError('ERR_PKI', 'nextUpdate must be after thisUpdate')
  const revoked = entries.map((e) => {
    if (!/^[0-9a-f]+$/i.test(e.serial) || e.serial.length > 40) throw new VpnError('ERR_PKI', `bad serial ${JSON.stringify(e.serial)}`)
    const code = CRL_REASONS[e.reason]
    // RFC 5280 §5.3.1: "the reason code CRL entry extension SHOULD be absent instead of using the
    // unspecified (0) reasonCode value".
    const exts = code === 0 ? undefined : der.seq(extension(OID_REASON_CODE, der.enumerated(code)))
    return der.seq(der.uint(Buffer.from(e.serial.length % 2 ? '0' + e.serial : e.serial, 'hex')), der.time(e.revokedAt), exts)
  })
  const alg = der.seq(der.oid(OID_SHA256_WITH_RSA), der.null())
  const tbs = der.seq(
    der.int(1), // v2: required because the CRL carries extensions (RFC 5280 §5.1.2.1)
    alg,
    caSubject(ca),
    der.time(opts.thisUpdate),
    // RFC 5280 §5.1.2.5: "Conforming CRL issuers MUST include the nextUpdate time in all CRLs."
    der.time(opts.nextUpdate),
    // RFC 5280 §5.1.2.6: "When there are no revoked certificates, the revoked certificates list MUST be absent."
    revoked.length > 0 ? der.seq(...revoked) : undefined,
    der.explicit(0, der.seq(
      // RFC 5280 §5.2.1: "Conforming CRL issuers MUST use the key identifier method, and MUST include this extension in all CRLs issued."
      extension(OID_AKI, der.seq(der.implicitBytes(0, ca.keyId))),
      // RFC 5280 §5.2.3: "CRL issuers conforming to this profile MUST include this extension in all CRLs".
      extension(OID_CRL_NUMBER, der.uint(bigEndian(opts.crlNumber))),
    )),
  )
  const tbsDer = der.toDer(tbs)
  const crlDer = der.toDer(der.seq(tbs, alg, der.bits(sign('sha256', tbsDer, ca.key))))
  const b64 = Buffer.from(crlDer).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')
  return `-----BEGIN X509 CRL-----\n${b64}\n-----END X509 CRL-----\n`
}

function bigEndian(n: number): Uint8Array {
  const out: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v % 256)
  return Uint8Array.from(out.length ? out : [0])
}

// The index of certificates the gateway CA issued (DIR/issued.json) and the revocation view the
// IKE code consults: records, validation of the file, look-up by name or serial.
import { VpnError } from '../lib/errors.js'
import { isCrlReason, type CrlReason } from './crl.js'
import { normalizeSerial, type CertKind, type KeyType } from './issue.js'

export interface IssuedRecord {
  /** Lower-case hex, no leading zero octets (normalizeSerial). */
  readonly serial: string
  readonly name: string
  readonly kind: CertKind
  readonly keyType: KeyType
  /** ISO 8601. */
  readonly notBefore: string
  readonly notAfter: string
  readonly status: 'valid' | 'revoked'
  readonly revokedAt?: string
  readonly reason?: CrlReason
  readonly fingerprint256: string
  readonly certPem: string
}

export interface IssuedIndex {
  readonly version: 1
  /** The number of the last CRL written (RFC 5280 §5.2.3); 0 before the first. */
  readonly crlNumber: number
  /** nextUpdate of the last CRL written (ISO), if any. */
  readonly crlNextUpdate?: string
  readonly certs: readonly IssuedRecord[]
}

export const EMPTY_INDEX: IssuedIndex = { version: 1, crlNumber: 0, certs: [] }

function damaged(why: string): never {
  throw new VpnError('ERR_PKI', `issued.json is damaged (${why}); restore it from a backup`)
}

const isIso = (v: unknown): v is string => typeof v === 'string' && !Number.isNaN(Date.parse(v))

/** Parses and checks issued.json text. Throws VpnError ERR_PKI naming the first problem. */
export function parseIndex(text: string): IssuedIndex {
  let raw: unknown
  try { raw = JSON.parse(text) } catch (e) { damaged((e as Error).message) }
  if (typeof raw !== 'object' || raw === null) damaged('not an object')
  const o = raw as Record<string, unknown>
  if (o.version !== 1) damaged(`unknown version ${String(o.version)}`)
  if (!Number.isSafeInteger(o.crlNumber) || (o.crlNumber as number) < 0) damaged('crlNumber')
  if (o.crlNextUpdate !== undefined && !isIso(o.crlNextUpdate)) damaged('crlNextUpdate')
  if (!Array.isArray(o.certs)) damaged('certs is not a list')
  const seen = new Set<string>()
  const certs = o.certs.map((c: unknown, i: number): IssuedRecord => {
    const r = c as Record<string, unknown>
    const at = `certs[${i}]`
    if (typeof r !== 'object' || r === null) damaged(at)
    if (typeof r.serial !== 'string' || normalizeSerial(r.serial) !== r.serial) damaged(`${at}.serial`)
    if (seen.has(r.serial)) damaged(`${at}: serial ${r.serial} twice`)
    seen.add(r.serial)
    if (typeof r.name !== 'string' || r.name.length === 0) damaged(`${at}.name`)
    if (r.kind !== 'client' && r.kind !== 'server') damaged(`${at}.kind`)
    if (r.keyType !== 'rsa' && r.keyType !== 'ecdsa') damaged(`${at}.keyType`)
    if (!isIso(r.notBefore) || !isIso(r.notAfter)) damaged(`${at} validity`)
    if (r.status !== 'valid' && r.status !== 'revoked') damaged(`${at}.status`)
    if (r.status === 'revoked' && (!isIso(r.revokedAt) || typeof r.reason !== 'string' || !isCrlReason(r.reason))) damaged(`${at} revocation`)
    if (typeof r.fingerprint256 !== 'string' || typeof r.certPem !== 'string') damaged(`${at} certificate`)
    return r as unknown as IssuedRecord
  })
  return { version: 1, crlNumber: o.crlNumber as number, crlNextUpdate: o.crlNextUpdate as string | undefined, certs }
}

/** The stable text form (one record per line is not needed; pretty JSON diff-friendly for backups). */
export function formatIndex(index: IssuedIndex): string {
  return JSON.stringify(index, null, 2) + '\n'
}

/**
 * Finds the record `ref` names: a serial (hex, colons and case ignored) or the name of a valid
 * certificate. A name matches only valid certificates; a serial matches any.
 */
export function findRecord(index: IssuedIndex, ref: string): IssuedRecord | undefined {
  const byName = index.certs.find((c) => c.name === ref && c.status === 'valid')
  if (byName) return byName
  const s = normalizeSerial(ref)
  return s ? index.certs.find((c) => c.serial === s) : undefined
}

/** Returns a new index with `serial` revoked. Throws VpnError ERR_PKI if unknown or already revoked. */
export function revokeRecord(index: IssuedIndex, serial: string, reason: CrlReason, at: Date): IssuedIndex {
  const r = index.certs.find((c) => c.serial === serial)
  if (!r) throw new VpnError('ERR_PKI', `no certificate with serial ${serial}`)
  if (r.status === 'revoked') throw new VpnError('ERR_PKI', `certificate ${r.name} (serial ${serial}) is already revoked (${r.revokedAt})`)
  return { ...index, certs: index.certs.map((c) => c.serial === serial ? { ...c, status: 'revoked' as const, revokedAt: at.toISOString(), reason } : c) }
}

/** What an IKE or TLS peer check asks: is this serial revoked by our CA? */
export interface Revocation {
  /** `serial` in any common form (hex, "AB:CD", upper or lower case, leading zero octets). */
  isRevoked(serial: string): boolean
  readonly revokedSerials: ReadonlySet<string>
}

export function revocationOf(index: IssuedIndex): Revocation {
  const revokedSerials = new Set(index.certs.filter((c) => c.status === 'revoked').map((c) => c.serial))
  return { revokedSerials, isRevoked: (serial) => revokedSerials.has(normalizeSerial(serial)) }
}

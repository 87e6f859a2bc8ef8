// The gateway CA on disk: issue into DIR (PKCS#12 + issued.json), revoke (issued.json + crl.pem),
// list, and loadRevocation(dir) for the code that checks peers. Writes are atomic (tmp + rename)
// under an exclusive lock file, so two `gatehouse ca` runs never lose each other's update.
import { closeSync, existsSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { VpnError } from '../lib/errors.js'
import { BACKDATE_MS, loadCa, type LoadedCa } from './ca.js'
import { buildCrl, type CrlReason } from './crl.js'
import { issueCert, type CertKind, type KeyType } from './issue.js'
import { EMPTY_INDEX, findRecord, formatIndex, parseIndex, revocationOf, revokeRecord, type IssuedIndex, type IssuedRecord, type Revocation } from './issued.js'
import { encodePkcs12, type P12Profile } from './pkcs12.js'

export interface CaFiles {
  /** The gateway directory (issued.json, crl.pem and the lock live here). */
  readonly dir: string
  /** CA certificate and key (config paths.ca / paths.caKey). */
  readonly caCert: string
  readonly caKey: string
}

export const ISSUED_FILE = 'issued.json'
export const CRL_FILE = 'crl.pem'
// A CRL is valid for this long; `gatehouse ca crl` (and every revoke) signs a fresh one. Verifiers
// such as strongSwan and `openssl verify -crl_check` treat an expired CRL as a failure.
export const CRL_VALID_DAYS = 180

/** Writes `data` to `path` atomically (same directory tmp file, then rename) with `mode`. */
export function writeAtomic(path: string, data: string | Uint8Array, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`
  try {
    writeFileSync(tmp, data, { mode, flag: 'w' })
    renameSync(tmp, path)
  } catch (e) {
    try { unlinkSync(tmp) } catch { /* already gone */ }
    throw e
  }
}

function withLock<T>(dir: string, fn: () => T): T {
  const lock = join(dir, `${ISSUED_FILE}.lock`)
  let fd: number
  try {
    fd = openSync(lock, 'wx', 0o600)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new VpnError('ERR_PKI', `another \`gatehouse ca\` is running (lock ${lock}); if none is, remove that file`)
    throw new VpnError('ERR_PKI', `cannot lock ${lock}: ${(e as Error).message}`, { cause: e })
  }
  try { return fn() } finally { closeSync(fd); unlinkSync(lock) }
}

/** Reads DIR/issued.json (an empty index if it does not exist). Throws VpnError ERR_PKI if damaged. */
export function readIndex(dir: string): IssuedIndex {
  const path = join(dir, ISSUED_FILE)
  if (!existsSync(path)) return EMPTY_INDEX
  return parseIndex(readFileSync(path, 'utf8'))
}

function readCa(files: CaFiles): LoadedCa {
  let certPem: string, keyPem: string
  try {
    certPem = readFileSync(files.caCert, 'utf8')
    keyPem = readFileSync(files.caKey, 'utf8')
  } catch (e) {
    throw new VpnError('ERR_PKI', `cannot read the CA (${(e as Error).message}); was the directory made by \`gatehouse init\`?`, { cause: e })
  }
  return loadCa({ certPem, keyPem })
}

function writeCrl(files: CaFiles, ca: LoadedCa, index: IssuedIndex, now: Date): IssuedIndex {
  const crlNumber = index.crlNumber + 1
  const nextUpdate = new Date(now.getTime() + CRL_VALID_DAYS * 86_400_000)
  const entries = index.certs.filter((c) => c.status === 'revoked').map((c) => ({ serial: c.serial, revokedAt: new Date(c.revokedAt!), reason: c.reason! }))
  // thisUpdate a few minutes back, like notBefore: a verifier whose clock is slightly behind would
  // otherwise call the CRL "not yet valid" and fail every check.
  const pem = buildCrl(ca, entries, { crlNumber, thisUpdate: new Date(now.getTime() - BACKDATE_MS), nextUpdate })
  const next = { ...index, crlNumber, crlNextUpdate: nextUpdate.toISOString() }
  // The index first: it is what the gateway consults; a crash before the CRL leaves an older CRL.
  writeAtomic(join(files.dir, ISSUED_FILE), formatIndex(next), 0o600)
  writeAtomic(join(files.dir, CRL_FILE), pem, 0o644)
  return next
}

export interface IssueToDirOptions {
  readonly kind: CertKind
  readonly name: string
  readonly dnsNames?: readonly string[]
  readonly ipAddresses?: readonly string[]
  readonly days?: number
  readonly keyType?: KeyType
  /** Where the PKCS#12 bundle goes; refused if it exists. Written with mode 0600. */
  readonly p12File: string
  readonly password: string
  readonly profile: P12Profile
  readonly now?: Date
}

/**
 * Issues a certificate named `name`, writes the bundle (key + certificate + CA certificate) and
 * records it. Refuses a name that has a valid certificate (revoke it first) and an existing p12
 * file. The private key exists only inside the encrypted bundle. Throws VpnError ERR_PKI.
 */
export function issueToDir(files: CaFiles, opts: IssueToDirOptions): IssuedRecord {
  return withLock(files.dir, () => {
    const index = readIndex(files.dir)
    const clash = index.certs.find((c) => c.name === opts.name && c.status === 'valid')
    if (clash) throw new VpnError('ERR_PKI', `${opts.name} already has a valid certificate (serial ${clash.serial}); revoke it first (gatehouse ca revoke --dir DIR ${opts.name})`)
    if (existsSync(opts.p12File)) throw new VpnError('ERR_PKI', `${opts.p12File} exists; choose another --p12 file or remove it`)
    const ca = readCa(files)
    const now = opts.now ?? new Date()
    const cert = issueCert(ca, { kind: opts.kind, commonName: opts.name, dnsNames: opts.dnsNames, ipAddresses: opts.ipAddresses, days: opts.days, keyType: opts.keyType, now })
    const p12 = encodePkcs12({ certPem: cert.certPem, keyPem: cert.keyPem, caCertPems: [ca.certPem], password: opts.password, friendlyName: opts.name, profile: opts.profile })
    try {
      writeFileSync(opts.p12File, p12, { mode: 0o600, flag: 'wx' })
    } catch (e) {
      throw new VpnError('ERR_PKI', `cannot write ${opts.p12File}: ${(e as Error).message}`, { cause: e })
    }
    const record: IssuedRecord = {
      serial: cert.serial, name: opts.name, kind: opts.kind, keyType: opts.keyType ?? 'rsa',
      notBefore: cert.notBefore.toISOString(), notAfter: cert.notAfter.toISOString(), status: 'valid',
      fingerprint256: cert.fingerprint256, certPem: cert.certPem,
    }
    const next = { ...index, certs: [...index.certs, record] }
    try {
      // A CA that never revoked anything still publishes a (empty) CRL, so verifiers find one.
      if (!existsSync(join(files.dir, CRL_FILE))) writeCrl(files, ca, next, now)
      else writeAtomic(join(files.dir, ISSUED_FILE), formatIndex(next), 0o600)
    } catch (e) {
      // An unrecorded certificate could never be revoked: take its bundle back.
      try { unlinkSync(opts.p12File) } catch { /* already gone */ }
      throw new VpnError('ERR_PKI', `cannot record the certificate in ${ISSUED_FILE} (${(e as Error).message}); the bundle was removed`, { cause: e })
    }
    return record
  })
}

/**
 * Revokes the certificate `ref` names (a valid certificate's name, or a serial) and signs a new
 * CRL. Returns the revoked record. Throws VpnError ERR_PKI if nothing matches or it is revoked.
 */
export function revokeInDir(files: CaFiles, ref: string, reason: CrlReason, now = new Date()): IssuedRecord {
  return withLock(files.dir, () => {
    const index = readIndex(files.dir)
    const r = findRecord(index, ref)
    if (!r) throw new VpnError('ERR_PKI', `no valid certificate named ${ref} and no serial ${ref} (see gatehouse ca list --dir DIR)`)
    const ca = readCa(files)
    const next = writeCrl(files, ca, revokeRecord(index, r.serial, reason, now), now)
    return next.certs.find((c) => c.serial === r.serial)!
  })
}

/** Signs a fresh CRL (new number, new nextUpdate) from the index. Returns its nextUpdate. */
export function refreshCrl(files: CaFiles, now = new Date()): Date {
  return withLock(files.dir, () => new Date(writeCrl(files, readCa(files), readIndex(files.dir), now).crlNextUpdate!))
}

/**
 * The revocation view of DIR/issued.json, for a gateway checking a peer certificate: a serial is
 * revoked if `gatehouse ca revoke` marked it. A directory without issued.json revokes nothing.
 * Read it again after a revoke (the file is replaced atomically, so a reader never sees half).
 * Throws VpnError ERR_PKI if the file is damaged (fail closed: refuse to start rather than accept).
 */
export function loadRevocation(dir: string): Revocation {
  return revocationOf(readIndex(dir))
}

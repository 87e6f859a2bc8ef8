// `gatehouse ca issue|list|revoke|crl --dir DIR`: machine certificates from the gateway's CA, handed
// out as password-protected PKCS#12 bundles (key + certificate + CA), with revocation and a CRL.
import { existsSync } from 'node:fs'
import { isIP } from 'node:net'
import { resolve, join } from 'node:path'
import { parse, requireDir, splitList } from './args.js'
import { loadConfig } from '../config/load.js'
import { readPassword } from './password.js'
import { checkPasswordPolicy } from '../aaa/password-policy.js'
import { issueToDir, readIndex, refreshCrl, revokeInDir, CRL_FILE, type CaFiles } from '../pki/ca-dir.js'
import { checkP12Password } from '../pki/pkcs12.js'
import { CRL_REASONS, isCrlReason } from '../pki/crl.js'
import { DEFAULT_DAYS, isDnsName } from '../pki/issue.js'
import { VpnError } from '../lib/errors.js'

export const CA_USAGE = `usage:
  gatehouse ca issue --dir DIR NAME [--client | --server --dns A,B --ip X,Y] [--ecdsa] [--days N]
                     [--p12 FILE] [--legacy-p12]
  gatehouse ca list --dir DIR [--json]
  gatehouse ca revoke --dir DIR NAME|SERIAL [--reason ${Object.keys(CRL_REASONS).join('|')}]
  gatehouse ca crl --dir DIR

issue   a certificate from DIR's CA and write a PKCS#12 bundle (private key + certificate + CA
        certificate) protected by a password read from standard input or prompted (at least 12
        characters and the user-password rules; printable ASCII). --client (default): EKU clientAuth
        + IKE intermediate, for L2TP/IPsec and IKE clients. --server: serverAuth + IKE intermediate
        and the names clients dial (--dns/--ip, at least one). RSA 2048 unless --ecdsa (P-256).
        Valid ${DEFAULT_DAYS.client} days unless --days. The bundle goes to --p12 FILE (default DIR/NAME.p12).
        The bundle is encrypted with AES-256 (PBES2/PBKDF2-SHA256, SHA-256 MAC): Windows 10 1709+,
        Server 2019+, current macOS/iOS and OpenSSL 3 read it. --legacy-p12 uses 3DES
        with a SHA-1 MAC instead, only for older systems that cannot (Windows 7/8, Windows 10 before
        1709, Server 2016, old macOS/iOS): 3DES is weaker, so it is not the default.
        On Windows import the bundle into Local Computer > Personal, and ca.pem into Local
        Computer > Trusted Root Certification Authorities.
list    every issued certificate: name, kind, key, serial, expiry, status (--json for scripts).
revoke  marks a certificate revoked in DIR/issued.json (what the gateway consults when a peer
        presents a certificate) and signs a new DIR/${CRL_FILE} for other verifiers.
crl     signs a fresh DIR/${CRL_FILE} (it is valid 180 days; revoke also refreshes it).
`

// NAME is the certificate's common name and the default file name: keep it to safe characters.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/

/** Bundle passwords protect a private key against offline guessing, so never below 12 characters. */
const MIN_P12_PASSWORD = 12

export async function runCa(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    dir: { type: 'string' }, client: { type: 'boolean' }, server: { type: 'boolean' }, dns: { type: 'string' },
    ip: { type: 'string' }, ecdsa: { type: 'boolean' }, days: { type: 'string' }, p12: { type: 'string' },
    'legacy-p12': { type: 'boolean' }, json: { type: 'boolean' }, reason: { type: 'string' }, help: { type: 'boolean' },
  }, true)
  const [action, ref, ...extra] = positionals
  if (values.help || action === 'help') { process.stdout.write(CA_USAGE); return 0 }
  if (!action) throw new VpnError('ERR_USAGE', CA_USAGE.trimEnd())
  if (extra.length > 0) throw new VpnError('ERR_USAGE', `unexpected ${extra.join(' ')}\n${CA_USAGE}`)
  const dir = requireDir(values.dir)
  const config = loadConfig(dir)
  const files: CaFiles = { dir, caCert: config.paths.ca, caKey: config.paths.caKey }
  switch (action) {
    case 'issue': {
      if (!ref || !NAME.test(ref)) throw new VpnError('ERR_USAGE', `ca issue needs a NAME of 1 to 64 letters, digits, . _ @ - (got ${JSON.stringify(ref ?? '')})\n${CA_USAGE}`)
      if (values.client && values.server) throw new VpnError('ERR_USAGE', 'choose one of --client and --server')
      const kind = values.server ? 'server' : 'client'
      const dnsNames = splitList(values.dns) ?? []
      const ipAddresses = splitList(values.ip) ?? []
      if (kind === 'server' && dnsNames.length + ipAddresses.length === 0) throw new VpnError('ERR_USAGE', 'a server certificate needs --dns NAME[,NAME] and/or --ip ADDR[,ADDR]: the names clients dial (Windows and macOS check them)')
      let days: number | undefined
      if (values.days !== undefined) {
        days = Number(values.days)
        if (!Number.isInteger(days) || days < 1 || days > 3650) throw new VpnError('ERR_USAGE', '--days must be a whole number from 1 to 3650')
      }
      const p12File = values.p12 !== undefined ? resolve(values.p12) : join(dir, `${ref}.p12`)
      // Refusals that need no password come first (an existing name or file fails again inside
      // issueToDir, under the lock, for a concurrent run).
      const clash = readIndex(dir).certs.find((c) => c.name === ref && c.status === 'valid')
      if (clash) throw new VpnError('ERR_PKI', `${ref} already has a valid certificate (serial ${clash.serial}); revoke it first (gatehouse ca revoke --dir DIR ${ref})`)
      if (existsSync(p12File)) throw new VpnError('ERR_PKI', `${p12File} exists; choose another --p12 file or remove it`)
      for (const d of dnsNames) if (!isDnsName(d)) throw new VpnError('ERR_USAGE', `--dns: not a DNS name: ${JSON.stringify(d)}`)
      for (const a of ipAddresses) if (isIP(a) === 0) throw new VpnError('ERR_USAGE', `--ip: not an IP address: ${JSON.stringify(a)}`)
      const password = await readPassword(`Password for the bundle of ${ref}: `, true)
      checkBundlePassword(password, ref, config.auth.passwordPolicy)
      const rec = issueToDir(files, {
        kind, name: ref, dnsNames, ipAddresses, days, keyType: values.ecdsa ? 'ecdsa' : 'rsa',
        p12File, password, profile: values['legacy-p12'] ? 'legacy' : 'modern',
      })
      process.stdout.write(`${kind} certificate ${ref} issued: serial ${rec.serial}, valid until ${rec.notAfter.slice(0, 10)}\n`)
      process.stdout.write(`bundle (key + certificate + CA, ${values['legacy-p12'] ? '3DES legacy' : 'AES-256'}): ${p12File}\n`)
      return 0
    }
    case 'list': {
      const index = readIndex(dir)
      const now = Date.now()
      const rows = index.certs.map((c) => ({
        name: c.name, kind: c.kind, keyType: c.keyType, serial: c.serial, notBefore: c.notBefore, notAfter: c.notAfter,
        status: c.status === 'revoked' ? 'revoked' : Date.parse(c.notAfter) < now ? 'expired' : 'valid',
        revokedAt: c.revokedAt, reason: c.reason, fingerprint256: c.fingerprint256,
      }))
      if (values.json) { process.stdout.write(JSON.stringify(rows, null, 2) + '\n'); return 0 }
      if (rows.length === 0) { process.stdout.write('no certificates issued yet (gatehouse ca issue --dir DIR NAME)\n'); return 0 }
      const table = [['NAME', 'KIND', 'KEY', 'SERIAL', 'NOT AFTER', 'STATUS'], ...rows.map((r) => [
        r.name, r.kind, r.keyType, r.serial, r.notAfter.slice(0, 10),
        r.status === 'revoked' ? `revoked ${r.revokedAt!.slice(0, 10)} (${r.reason})` : r.status,
      ])]
      const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)))
      for (const row of table) process.stdout.write(row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i]!)).join('  ') + '\n')
      if (index.crlNextUpdate && Date.parse(index.crlNextUpdate) - now < 30 * 86_400_000) {
        process.stdout.write(`note: ${CRL_FILE} expires ${index.crlNextUpdate.slice(0, 10)}; run gatehouse ca crl --dir DIR\n`)
      }
      return 0
    }
    case 'revoke': {
      if (!ref) throw new VpnError('ERR_USAGE', `ca revoke needs NAME or SERIAL\n${CA_USAGE}`)
      const reason = values.reason ?? 'unspecified'
      if (!isCrlReason(reason)) throw new VpnError('ERR_USAGE', `--reason must be one of ${Object.keys(CRL_REASONS).join(', ')}`)
      const rec = revokeInDir(files, ref, reason)
      process.stdout.write(`certificate ${rec.name} (serial ${rec.serial}) revoked (${reason}); ${join(dir, CRL_FILE)} updated\n`)
      return 0
    }
    case 'crl': {
      const next = refreshCrl(files)
      process.stdout.write(`${join(dir, CRL_FILE)} signed, valid until ${next.toISOString().slice(0, 10)}\n`)
      return 0
    }
    default:
      throw new VpnError('ERR_USAGE', CA_USAGE.trimEnd())
  }
}

/**
 * The user-password policy from the config (classes, no name, not common), with the length raised
 * to at least 12: a stolen bundle can be attacked offline at full speed, unlike a login.
 */
function checkBundlePassword(password: string, name: string, policy: { readonly minLength: number; readonly minClasses: number }): void {
  checkP12Password(password)
  const verdict = checkPasswordPolicy(password, name, { minLength: Math.max(MIN_P12_PASSWORD, policy.minLength), minClasses: policy.minClasses })
  if (!verdict.ok) throw new VpnError('ERR_WEAK_PASSWORD', `bundle ${verdict.message}`)
}

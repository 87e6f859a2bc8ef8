// The CA directory: issue (bundle 0600, issued.json 0600, first CRL), refusals, revoke by name or
// serial (new CRL number, openssl -crl_check refuses), loadRevocation, the lock, damaged indexes.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, statSync, writeFileSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { createCa } from '../../src/pki/ca.js'
import { issueToDir, loadRevocation, readIndex, refreshCrl, revokeInDir, type CaFiles } from '../../src/pki/ca-dir.js'
import { decodePkcs12 } from '../../src/pki/pkcs12.js'
import { EMPTY_INDEX, findRecord, parseIndex, revocationOf, revokeRecord } from '../../src/pki/issued.js'
import { VpnError } from '../../src/lib/errors.js'
import { openssl, Scratch } from './openssl.js'

const PW = 'Dir-Bundle-Pass-1'
const tmp = new Scratch()
after(() => tmp.remove())
const caPair = createCa({ commonName: 'Dir Test CA', keyBits: 2048 })
const files: CaFiles = { dir: tmp.dir, caCert: tmp.file('ca.pem', caPair.certPem), caKey: tmp.file('ca-key.pem', caPair.keyPem) }
const isPki = (re?: RegExp) => (e: unknown): boolean => e instanceof VpnError && e.code === 'ERR_PKI' && (!re || re.test(e.message))
const mode = (p: string): number => statSync(p).mode & 0o777
const crlNumber = (): string => /CRL Number: \n\s+(\d+)/.exec(openssl(['crl', '-in', join(tmp.dir, 'crl.pem'), '-noout', '-text']).out)?.[1] ?? ''

test('issue writes a 0600 bundle that opens with the password, a 0600 index and a first (empty) CRL; revoke by name signs CRL 2 and openssl refuses the certificate', () => {
  const rec = issueToDir(files, { kind: 'client', name: 'alice', p12File: tmp.path('alice.p12'), password: PW, profile: 'modern' })
  assert.equal(mode(tmp.path('alice.p12')), 0o600)
  assert.equal(mode(join(tmp.dir, 'issued.json')), 0o600)
  const opened = decodePkcs12(readFileSync(tmp.path('alice.p12')), PW)
  assert.equal(opened.certPem.replace(/\s/g, ''), rec.certPem.replace(/\s/g, ''))
  assert.equal(crlNumber(), '1')
  const idx = readIndex(tmp.dir)
  assert.deepEqual(idx.certs.map((c) => [c.name, c.kind, c.keyType, c.status, c.serial]), [['alice', 'client', 'rsa', 'valid', rec.serial]])
  assert.equal(loadRevocation(tmp.dir).isRevoked(rec.serial), false)
  const certFile = tmp.file('alice.pem', rec.certPem)
  assert.equal(openssl(['verify', '-crl_check', '-CAfile', files.caCert, '-CRLfile', join(tmp.dir, 'crl.pem'), certFile]).code, 0)

  const t = Date.now()
  const revoked = revokeInDir(files, 'alice', 'keyCompromise')
  assert.equal(revoked.status, 'revoked')
  assert.ok(Math.abs(Date.parse(revoked.revokedAt!) - t) < 10_000)
  assert.equal(crlNumber(), '2')
  const v = openssl(['verify', '-crl_check', '-CAfile', files.caCert, '-CRLfile', join(tmp.dir, 'crl.pem'), certFile])
  assert.notEqual(v.code, 0)
  assert.match(v.out + v.err, /certificate revoked/)
  // every spelling of the serial is recognised
  const r = loadRevocation(tmp.dir)
  for (const s of [rec.serial, rec.serial.toUpperCase(), '00' + rec.serial, rec.serial.match(/../g)!.join(':')]) assert.equal(r.isRevoked(s), true, s)
  assert.equal(r.isRevoked('01'), false)
  assert.equal(r.isRevoked('not hex'), false)
  // no temporary files or lock left behind
  assert.deepEqual(readdirSync(tmp.dir).filter((n) => /tmp|lock/.test(n)), [])
})

test('refusals: a name with a valid certificate, an existing bundle file, an unknown or already revoked reference', () => {
  const bob = issueToDir(files, { kind: 'server', name: 'bob', dnsNames: ['bob.example.test'], keyType: 'ecdsa', p12File: tmp.path('bob.p12'), password: PW, profile: 'legacy' })
  assert.throws(() => issueToDir(files, { kind: 'client', name: 'bob', p12File: tmp.path('bob2.p12'), password: PW, profile: 'modern' }), isPki(/already has a valid certificate/))
  assert.throws(() => issueToDir(files, { kind: 'client', name: 'carol', p12File: tmp.path('bob.p12'), password: PW, profile: 'modern' }), isPki(/exists/))
  assert.throws(() => revokeInDir(files, 'nobody', 'superseded'), isPki(/no valid certificate named nobody/))
  revokeInDir(files, bob.serial.toUpperCase(), 'superseded')
  assert.throws(() => revokeInDir(files, bob.serial, 'superseded'), isPki(/already revoked/))
  assert.throws(() => revokeInDir(files, 'bob', 'superseded'), isPki(/no valid certificate named bob/))
  // after revocation the name may be issued again; the old serial stays revoked
  const bob2 = issueToDir(files, { kind: 'client', name: 'bob', p12File: tmp.path('bob3.p12'), password: PW, profile: 'modern' })
  const r = loadRevocation(tmp.dir)
  assert.equal(r.isRevoked(bob.serial), true)
  assert.equal(r.isRevoked(bob2.serial), false)
  assert.equal(findRecord(readIndex(tmp.dir), 'bob')?.serial, bob2.serial)
})

test('refreshCrl signs a new number; a held lock refuses a second writer', () => {
  const before = Number(crlNumber())
  const next = refreshCrl(files, new Date('2026-11-27T10:00:00Z'))
  assert.equal(next.toISOString(), '2027-05-26T10:00:00.000Z') // 180 days
  assert.equal(Number(crlNumber()), before + 1)
  const lock = join(tmp.dir, 'issued.json.lock')
  writeFileSync(lock, '')
  try {
    assert.throws(() => revokeInDir(files, 'bob', 'superseded'), isPki(/another `gatehouse ca` is running/))
  } finally { unlinkSync(lock) }
})

test('if issued.json cannot be written, the bundle is taken back (an unrecorded certificate could never be revoked)', () => {
  const blocker = join(tmp.dir, `issued.json.tmp-${process.pid}`)
  mkdirSync(blocker) // the atomic write's temporary file cannot be created
  try {
    assert.throws(() => issueToDir(files, { kind: 'client', name: 'dave', p12File: tmp.path('dave.p12'), password: PW, profile: 'modern' }), isPki(/cannot record the certificate.*the bundle was removed/))
  } finally { rmdirSync(blocker) }
  assert.equal(existsSync(tmp.path('dave.p12')), false)
  assert.equal(findRecord(readIndex(tmp.dir), 'dave'), undefined)
})

test('a missing CA is a clear error; a directory without issued.json revokes nothing', () => {
  const empty = new Scratch()
  try {
    assert.equal(loadRevocation(empty.dir).revokedSerials.size, 0)
    assert.throws(() => issueToDir({ dir: empty.dir, caCert: empty.path('ca.pem'), caKey: empty.path('ca-key.pem') }, { kind: 'client', name: 'x', p12File: empty.path('x.p12'), password: PW, profile: 'modern' }), isPki(/gatehouse init/))
  } finally { empty.remove() }
})

test('parseIndex refuses damaged files, naming the field', () => {
  const good = JSON.parse(readFileSync(join(tmp.dir, 'issued.json'), 'utf8')) as { certs: Record<string, unknown>[] }
  assert.doesNotThrow(() => parseIndex(JSON.stringify(good)))
  const damaged = (mutate: (o: { certs: Record<string, unknown>[]; [k: string]: unknown }) => void, re: RegExp): void => {
    const o = structuredClone(good) as { certs: Record<string, unknown>[] }
    mutate(o)
    assert.throws(() => parseIndex(JSON.stringify(o)), isPki(re))
  }
  assert.throws(() => parseIndex('{'), isPki(/damaged/))
  damaged((o) => { o.version = 2 }, /version/)
  damaged((o) => { o.certs[0]!.serial = '00ab' }, /serial/)
  damaged((o) => { o.certs[1]!.serial = o.certs[0]!.serial }, /twice/)
  damaged((o) => { o.certs[0]!.kind = 'root' }, /kind/)
  damaged((o) => { o.certs[0]!.notAfter = 'soon' }, /validity/)
  damaged((o) => { o.certs[0]!.reason = 'boredom' }, /revocation/)
  damaged((o) => { o.crlNumber = -1 }, /crlNumber/)
})

test('revokeRecord and revocationOf are pure', () => {
  const rec = { serial: 'ab', name: 'n', kind: 'client' as const, keyType: 'rsa' as const, notBefore: '2026-01-01T00:00:00Z', notAfter: '2028-01-01T00:00:00Z', status: 'valid' as const, fingerprint256: 'x', certPem: 'x' }
  const idx = { ...EMPTY_INDEX, certs: [rec] }
  const next = revokeRecord(idx, 'ab', 'cessationOfOperation', new Date('2026-06-01T00:00:00Z'))
  assert.equal(idx.certs[0]!.status, 'valid')
  assert.deepEqual(next.certs[0], { ...rec, status: 'revoked', revokedAt: '2026-06-01T00:00:00.000Z', reason: 'cessationOfOperation' })
  assert.equal(revocationOf(next).isRevoked('AB'), true)
  assert.equal(revocationOf(idx).isRevoked('ab'), false)
  assert.throws(() => revokeRecord(idx, 'cd', 'superseded', new Date()), isPki(/no certificate with serial cd/))
})

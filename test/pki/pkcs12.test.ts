// PKCS#12 bundles: the RFC 7292 Appendix B KDF against published vectors, both write profiles read
// by openssl (layout and the extracted key and certificates), OpenSSL's own bundles read by us,
// node:tls loading them, and refusals (wrong password, tampering, no MAC, hostile bytes).
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { createSecureContext } from 'node:tls'
import fc from 'fast-check'
import { createCa, loadCa } from '../../src/pki/ca.js'
import { issueCert } from '../../src/pki/issue.js'
import { checkP12Password, decodePkcs12, encodePkcs12, type P12Profile } from '../../src/pki/pkcs12.js'
import { pkcs12Kdf, type Hash } from '../../src/pki/pkcs12-pbe.js'
import { VpnError } from '../../src/lib/errors.js'
import { loadVectors } from '../crypto/load-vectors.js'
import { openssl, opensslBinary, Scratch } from './openssl.js'

const PW = 'Bundle-Pass-2026'
const caPair = createCa({ commonName: 'P12 Test CA', keyBits: 2048 })
const ca = loadCa(caPair)
const rsa = issueCert(ca, { kind: 'client', commonName: 'alice' })
const ec = issueCert(ca, { kind: 'client', commonName: 'bob', keyType: 'ecdsa' })
const tmp = new Scratch()
after(() => tmp.remove())
const isPki = (e: unknown): boolean => e instanceof VpnError && e.code === 'ERR_PKI'
const pkcs8 = (pem: string): string => createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' }).toString('hex')
const raw = (pem: string): string => new X509Certificate(pem).raw.toString('hex')

function bundle(cert: { certPem: string; keyPem: string }, profile: P12Profile, name = 'alice'): Uint8Array {
  return encodePkcs12({ certPem: cert.certPem, keyPem: cert.keyPem, caCertPems: [ca.certPem], password: PW, friendlyName: name, profile })
}

test('the PKCS#12 KDF (RFC 7292 B.2) reproduces the published vectors', () => {
  const v = loadVectors<{ cases: { hash: Hash; password: string; salt: string; id: 1 | 2 | 3; iterations: number; out: string }[] }>('pki', 'pkcs12-kdf')
  assert.equal(v.cases.length, 11)
  for (const c of v.cases) {
    const out = pkcs12Kdf(c.hash, c.password, Buffer.from(c.salt, 'hex'), c.id, c.iterations, c.out.length / 2)
    assert.equal(Buffer.from(out).toString('hex').toUpperCase(), c.out, `${c.password} ${c.salt} id ${c.id}`)
  }
})

test('modern profile as openssl reports it: PBES2/PBKDF2/AES-256-CBC/hmacWithSHA256 for certificates and key, SHA-256 MAC, 8-byte salt, 2048 iterations', () => {
  const f = tmp.file('modern.p12', bundle(rsa, 'modern'))
  const r = openssl(['pkcs12', '-info', '-noout', '-in', f, '-passin', `pass:${PW}`])
  assert.equal(r.code, 0, r.err)
  const info = r.out + r.err
  assert.match(info, /MAC: sha256, Iteration 2048\nMAC length: 32, salt length: 8/)
  assert.match(info, /PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256\nCertificate bag\nCertificate bag/)
  assert.match(info, /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256/)
})

test('legacy profile as openssl reports it: 3DES for certificates and key, SHA-1 MAC, never RC2', () => {
  const f = tmp.file('legacy.p12', bundle(rsa, 'legacy'))
  const r = openssl(['pkcs12', '-info', '-noout', '-in', f, '-passin', `pass:${PW}`])
  assert.equal(r.code, 0, r.err)
  const info = r.out + r.err
  assert.match(info, /MAC: sha1, Iteration 2048\nMAC length: 20, salt length: 8/)
  assert.match(info, /PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048/)
  assert.match(info, /Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048/)
  assert.doesNotMatch(info, /RC2/)
})

test('openssl extracts exactly our key, certificate and CA certificate (RSA and ECDSA, both profiles), with friendlyName and localKeyId', () => {
  for (const [label, cert] of [['rsa', rsa], ['ecdsa', ec]] as const) {
    for (const profile of ['modern', 'legacy'] as const) {
      const f = tmp.file(`${label}-${profile}.p12`, bundle(cert, profile, label))
      const pass = ['-in', f, '-passin', `pass:${PW}`]
      const key = openssl(['pkcs12', ...pass, '-nocerts', '-nodes'])
      assert.equal(key.code, 0, key.err)
      assert.equal(pkcs8(key.out), pkcs8(cert.keyPem), `${label} ${profile} key`)
      assert.match(key.out, new RegExp(`friendlyName: ${label}`))
      assert.match(key.out, /localKeyID: ([0-9A-F]{2} ){19}[0-9A-F]{2}/)
      const own = openssl(['pkcs12', ...pass, '-nokeys', '-clcerts'])
      assert.equal(raw(own.out), raw(cert.certPem), `${label} ${profile} certificate`)
      // the key and its certificate share one localKeyId (how Windows pairs them)
      assert.equal(/localKeyID: ([0-9A-F ]+)/.exec(own.out)?.[1], /localKeyID: ([0-9A-F ]+)/.exec(key.out)?.[1])
      const cas = openssl(['pkcs12', ...pass, '-nokeys', '-cacerts'])
      assert.equal(raw(cas.out), raw(ca.certPem), `${label} ${profile} CA`)
    }
  }
})

test('decodePkcs12 reads its own bundles back', () => {
  for (const cert of [rsa, ec]) {
    for (const profile of ['modern', 'legacy'] as const) {
      const d = decodePkcs12(bundle(cert, profile), PW)
      assert.equal(raw(d.certPem), raw(cert.certPem))
      assert.equal(pkcs8(d.keyPem), pkcs8(cert.keyPem))
      assert.deepEqual(d.caCertPems.map(raw), [raw(ca.certPem)])
    }
  }
})

test('decodePkcs12 reads what OpenSSL exports: its AES-256 default and 3DES/SHA-1', () => {
  const key = tmp.file('k.pem', rsa.keyPem), cert = tmp.file('c.pem', rsa.certPem), caf = tmp.file('ca.pem', ca.certPem)
  const base = ['pkcs12', '-export', '-inkey', key, '-in', cert, '-certfile', caf, '-passout', `pass:${PW}`]
  for (const extra of [[], ['-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'], ['-certpbe', 'NONE']]) {
    const d = decodePkcs12(opensslBinary([...base, ...extra]), PW)
    assert.equal(raw(d.certPem), raw(rsa.certPem), extra.join(' '))
    assert.equal(pkcs8(d.keyPem), pkcs8(rsa.keyPem), extra.join(' '))
    assert.deepEqual(d.caCertPems.map(raw), [raw(ca.certPem)])
  }
  // -nomac: refused rather than trusted (nothing would authenticate the content)
  assert.throws(() => decodePkcs12(opensslBinary([...base, '-nomac']), PW), (e: unknown) => isPki(e) && /no MAC/.test((e as Error).message))
})

test('node:tls loads both profiles as a pfx with the passphrase, and refuses a wrong one', () => {
  for (const profile of ['modern', 'legacy'] as const) {
    const pfx = Buffer.from(bundle(rsa, profile))
    assert.doesNotThrow(() => createSecureContext({ pfx, passphrase: PW }), profile)
    assert.throws(() => createSecureContext({ pfx, passphrase: 'wrong-password-1A' }), profile)
  }
})

test('a wrong password, a flipped byte, or a non-ASCII password are refused with ERR_PKI', () => {
  const good = bundle(rsa, 'modern')
  assert.throws(() => decodePkcs12(good, 'Bundle-Pass-2027'), (e: unknown) => isPki(e) && /wrong password/.test((e as Error).message))
  // flip one byte in the middle (inside the encrypted certificates): the MAC catches it
  const bad = good.slice(); bad[Math.floor(bad.length / 2)]! ^= 0x01
  assert.throws(() => decodePkcs12(bad, PW), isPki)
  assert.throws(() => decodePkcs12(new Uint8Array(0), PW), isPki)
  assert.throws(() => checkP12Password('Pässwort-12345'), isPki)
  assert.throws(() => checkP12Password(''), isPki)
  assert.throws(() => encodePkcs12({ certPem: rsa.certPem, keyPem: rsa.keyPem, caCertPems: [], password: 'tab\there-Pass1', friendlyName: 'x' }), isPki)
  assert.throws(() => encodePkcs12({ certPem: 'nope', keyPem: rsa.keyPem, caCertPems: [], password: PW, friendlyName: 'x' }), isPki)
})

test('property: any printable-ASCII password round-trips through both profiles', () => {
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i))), minLength: 1, maxLength: 40 }), fc.constantFrom('modern', 'legacy'), (password, profile) => {
    const p12 = encodePkcs12({ certPem: ec.certPem, keyPem: ec.keyPem, caCertPems: [ca.certPem], password, friendlyName: 'p', profile: profile as P12Profile, iterations: 3 })
    assert.equal(raw(decodePkcs12(p12, password).certPem), raw(ec.certPem))
  }), { numRuns: 30 })
})

test('property: decodePkcs12 throws only VpnError ERR_PKI, on random bytes and on mutated bundles', () => {
  const base = encodePkcs12({ certPem: ec.certPem, keyPem: ec.keyPem, caCertPems: [ca.certPem], password: PW, friendlyName: 'p', iterations: 1 })
  const only = (f: () => unknown): void => { try { f() } catch (e) { if (!isPki(e)) throw e } }
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => only(() => decodePkcs12(b, PW))), { numRuns: 300 })
  fc.assert(fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), fc.boolean(), (flips, truncate) => {
    const b = base.slice()
    for (const [i, x] of flips) b[i]! ^= x
    only(() => decodePkcs12(truncate ? b.subarray(0, flips[0]![0]) : b, PW))
  }), { numRuns: 300 })
})

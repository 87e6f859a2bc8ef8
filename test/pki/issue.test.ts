// Machine certificates: client and server profiles, RSA and ECDSA, checked by openssl (verify,
// x509 -text: key usage, EKU, SAN) and node:crypto (signature, key match, SKI/AKI, serial, dates).
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto'
import { createCa, loadCa, issueServerCert, OID_IKE_INTERMEDIATE } from '../../src/pki/ca.js'
import { issueCert, normalizeSerial, OID_CLIENT_AUTH, OID_SERVER_AUTH } from '../../src/pki/issue.js'
import { VpnError } from '../../src/lib/errors.js'
import { openssl, Scratch } from './openssl.js'

const caPair = createCa({ commonName: 'Issue Test CA', keyBits: 2048 })
const ca = loadCa(caPair)
const tmp = new Scratch()
after(() => tmp.remove())
const caFile = tmp.file('ca.pem', caPair.certPem)
const isPki = (e: unknown): boolean => e instanceof VpnError && e.code === 'ERR_PKI'
const now = new Date('2026-11-27T08:00:00Z')

const cases = {
  clientRsa: issueCert(ca, { kind: 'client', commonName: 'alice', now }),
  clientEc: issueCert(ca, { kind: 'client', commonName: 'bob@example.test', keyType: 'ecdsa', now }),
  serverRsa: issueCert(ca, { kind: 'server', commonName: 'vpn.example.test', dnsNames: ['vpn.example.test'], ipAddresses: ['198.18.0.1', '2001:db8::1'], now }),
  serverEc: issueCert(ca, { kind: 'server', commonName: 'gw2', dnsNames: ['gw2.example.test'], keyType: 'ecdsa', now }),
}

function text(pem: string, name: string): string {
  const r = openssl(['x509', '-noout', '-text', '-in', tmp.file(`${name}.pem`, pem)])
  assert.equal(r.code, 0, r.err)
  return r.out
}

test('openssl verify: every profile chains to the CA', () => {
  for (const [name, c] of Object.entries(cases)) {
    const r = openssl(['verify', '-CAfile', caFile, tmp.file(`${name}.pem`, c.certPem)])
    assert.equal(r.code, 0, `${name}: ${r.err}`)
    assert.match(r.out, /: OK\n$/)
  }
  // a certificate from another CA does not verify against ours
  const other = issueCert(loadCa(createCa({ commonName: 'Other', keyBits: 2048 })), { kind: 'client', commonName: 'mallory' })
  assert.notEqual(openssl(['verify', '-CAfile', caFile, tmp.file('other.pem', other.certPem)]).code, 0)
})

test('client profile (openssl x509 -text): digitalSignature + keyEncipherment for RSA, digitalSignature only for ECDSA; EKU clientAuth + IKE intermediate; SAN names the holder', () => {
  const r = text(cases.clientRsa.certPem, 'clientRsa')
  assert.match(r, /X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/)
  assert.match(r, /X509v3 Extended Key Usage: \n\s+TLS Web Client Authentication, 1\.3\.6\.1\.5\.5\.8\.2\.2\n/)
  assert.match(r, /X509v3 Basic Constraints: critical\n\s+CA:FALSE/)
  assert.match(r, /Subject Alternative Name: \n\s+DNS:alice\n/)
  assert.match(r, /Subject: CN = alice, O = Gatehouse/)
  assert.match(r, /Public-Key: \(2048 bit\)/)
  const e = text(cases.clientEc.certPem, 'clientEc')
  assert.match(e, /X509v3 Key Usage: critical\n\s+Digital Signature\n/)
  assert.match(e, /Subject Alternative Name: \n\s+email:bob@example\.test\n/)
  assert.match(e, /ASN1 OID: prime256v1/)
  assert.match(e, /Signature Algorithm: sha256WithRSAEncryption/)
})

test('server profile: EKU serverAuth + IKE intermediate, SAN with every DNS name and address', () => {
  const r = text(cases.serverRsa.certPem, 'serverRsa')
  assert.match(r, /X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication, 1\.3\.6\.1\.5\.5\.8\.2\.2\n/)
  assert.match(r, /DNS:vpn\.example\.test, IP Address:198\.18\.0\.1, IP Address:2001:DB8:0:0:0:0:0:1/)
  const x = new X509Certificate(cases.serverRsa.certPem)
  assert.deepEqual(x.keyUsage?.slice().sort(), [OID_SERVER_AUTH, OID_IKE_INTERMEDIATE].sort())
  assert.equal(x.checkHost('vpn.example.test'), 'vpn.example.test')
  assert.equal(x.checkIP('198.18.0.1'), '198.18.0.1')
  assert.deepEqual(new X509Certificate(cases.clientRsa.certPem).keyUsage?.slice().sort(), [OID_CLIENT_AUTH, OID_IKE_INTERMEDIATE].sort())
  // issueServerCert (used by `gatehouse init`) is the same profile
  const s = new X509Certificate(issueServerCert(caPair, { commonName: 'x', dnsNames: ['x.test'], ipAddresses: [] }).certPem)
  assert.deepEqual(s.keyUsage?.slice().sort(), [OID_SERVER_AUTH, OID_IKE_INTERMEDIATE].sort())
})

/** A hand DER walk of SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, BIT STRING }. */
function subjectPublicKeyBits(spki: Buffer): Buffer {
  const tlv = (at: number): { start: number; end: number } => {
    let len = spki[at + 1]!, start = at + 2
    if (len & 0x80) { const n = len & 0x7f; len = 0; for (let i = 0; i < n; i++) len = len * 256 + spki[at + 2 + i]!; start += n }
    return { start, end: start + len }
  }
  const outer = tlv(0)
  const alg = tlv(outer.start)
  const bitString = tlv(alg.end)
  assert.equal(spki[alg.end], 0x03)
  return spki.subarray(bitString.start + 1, bitString.end) // skip the unused-bits octet
}

test('keys match their certificates; signature is the CA\'s; SKI is RFC 5280 §4.2.1.2 method 1; AKI is the CA\'s SKI', () => {
  const caX = new X509Certificate(caPair.certPem)
  for (const [name, c] of Object.entries(cases)) {
    const x = new X509Certificate(c.certPem)
    assert.ok(x.checkPrivateKey(createPrivateKey(c.keyPem)), name)
    assert.ok(x.verify(caX.publicKey), name)
    assert.ok(x.checkIssued(caX), name)
    // SKI = SHA-1 of the subjectPublicKey BIT STRING contents
    const bits = subjectPublicKeyBits(x.publicKey.export({ type: 'spki', format: 'der' }))
    const r = text(c.certPem, name)
    const ski = /Subject Key Identifier: \n\s+([0-9A-F:]+)/.exec(r)?.[1]
    assert.equal(ski, createHash('sha1').update(bits).digest('hex').toUpperCase().match(/../g)!.join(':'), name)
    const aki = /Authority Key Identifier: \n\s+(?:keyid:)?([0-9A-F:]+)/.exec(r)?.[1]
    assert.equal(aki, Buffer.from(ca.keyId).toString('hex').toUpperCase().match(/../g)!.join(':'), name)
  }
})

test('serials are random, positive and 128 bits; validity is two years from five minutes back', () => {
  const serials = new Set<string>()
  for (const c of Object.values(cases)) {
    const x = new X509Certificate(c.certPem)
    assert.equal(normalizeSerial(x.serialNumber), c.serial)
    assert.ok(c.serial.length >= 31 && c.serial.length <= 32, c.serial) // >= 64 random bits (CA/B §7.1); 16 octets, top bit clear
    assert.ok(parseInt(c.serial.slice(0, 2), 16) < 0x80)
    serials.add(c.serial)
    assert.equal(c.notBefore.toISOString(), '2026-11-27T07:55:00.000Z')
    assert.equal(c.notAfter.toISOString(), '2028-11-26T08:00:00.000Z') // 730 days (2028 is a leap year)
    assert.equal(new Date(x.validTo).getTime(), c.notAfter.getTime())
  }
  assert.equal(serials.size, 4)
  assert.equal(issueCert(ca, { kind: 'client', commonName: 'c', days: 1, now }).notAfter.toISOString(), '2026-11-28T08:00:00.000Z')
})

test('normalizeSerial accepts the forms tools print', () => {
  assert.equal(normalizeSerial('00:AB:cd'), 'abcd')
  assert.equal(normalizeSerial('0ABC'), '0abc')
  assert.equal(normalizeSerial('ABC'), '0abc')
  assert.equal(normalizeSerial('0000'), '00')
  assert.equal(normalizeSerial('xyz'), '')
})

test('refusals: no name for a server, bad names/addresses/lifetimes, a CA key that is not the CA\'s', () => {
  assert.throws(() => issueCert(ca, { kind: 'server', commonName: 's' }), isPki)
  assert.throws(() => issueCert(ca, { kind: 'server', commonName: 's', dnsNames: ['bad name'] }), isPki)
  assert.throws(() => issueCert(ca, { kind: 'server', commonName: 's', ipAddresses: ['1.2.3'] }), isPki)
  assert.throws(() => issueCert(ca, { kind: 'client', commonName: '' }), isPki)
  assert.throws(() => issueCert(ca, { kind: 'client', commonName: 'c', days: 0 }), isPki)
  assert.throws(() => loadCa({ certPem: caPair.certPem, keyPem: cases.clientRsa.keyPem }), isPki)
  assert.throws(() => loadCa({ certPem: cases.clientRsa.certPem, keyPem: cases.clientRsa.keyPem }), isPki)
  assert.throws(() => loadCa({ certPem: 'x', keyPem: 'y' }), isPki)
  // a client name that is neither host-like nor an address gets no SAN rather than a wrong one
  assert.equal(new X509Certificate(issueCert(ca, { kind: 'client', commonName: 'Alice Smith' }).certPem).subjectAltName, undefined)
})

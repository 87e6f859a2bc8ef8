// verifyPeerCertificate: one case per verdict (ok with identities, untrusted, not yet valid,
// expired, revoked, CA as peer, wrong keyUsage/EKU for the role, malformed) and a property that
// it never throws on hostile bytes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { X509Certificate, createPrivateKey } from 'node:crypto'
import fc from 'fast-check'
import forge from 'node-forge'
import { createCa, loadCa } from '../../src/pki/ca.js'
import { issueCert } from '../../src/pki/issue.js'
import { verifyPeerCertificate, type PeerRole } from '../../src/pki/peer.js'
import { EMPTY_INDEX, revocationOf } from '../../src/pki/issued.js'

const caPair = createCa({ commonName: 'Peer Test CA', keyBits: 2048 })
const ca = loadCa(caPair)
const anchors = [new X509Certificate(caPair.certPem)]
const der = (pem: string): Uint8Array => new Uint8Array(new X509Certificate(pem).raw)
const now = Date.now()
const client = issueCert(ca, { kind: 'client', commonName: 'alice@example.test', keyType: 'ecdsa' })
const server = issueCert(ca, { kind: 'server', commonName: 'vpn.example.test', dnsNames: ['vpn.example.test'], ipAddresses: ['198.18.0.1', '2001:db8::7'] })
const check = (pem: string, role: PeerRole, extra: Partial<Parameters<typeof verifyPeerCertificate>[1]> = {}) => verifyPeerCertificate(der(pem), { anchors, now, role, ...extra })

test('ok: our client and server certificates, with serial, subject DER and SAN identities', () => {
  const c = check(client.certPem, 'client')
  assert.ok(c.ok)
  assert.equal(c.serial, client.serial)
  assert.deepEqual(c.emails, ['alice@example.test'])
  assert.ok(Buffer.from(der(client.certPem)).includes(Buffer.from(c.subjectDer)))
  assert.ok(Buffer.from(c.subjectDer).includes(Buffer.from('alice@example.test')))
  assert.equal(c.subjectDer[0], 0x30)
  const s = check(server.certPem, 'server')
  assert.ok(s.ok)
  assert.deepEqual(s.dnsNames, ['vpn.example.test'])
  assert.deepEqual(s.ipAddresses, ['198.18.0.1', '2001:db8:0:0:0:0:0:7'])
  // a gateway's certificate may also initiate (site-to-site): accepted in the client role
  assert.ok(check(server.certPem, 'client').ok)
})

test('untrusted: another CA, and a certificate presented with no anchors', () => {
  const other = issueCert(loadCa(createCa({ commonName: 'Other CA', keyBits: 2048 })), { kind: 'client', commonName: 'mallory' })
  assert.deepEqual(pick(check(other.certPem, 'client')), 'untrusted')
  assert.deepEqual(pick(check(client.certPem, 'client', { anchors: [] })), 'untrusted')
})

test('validity: not yet valid before notBefore, expired after notAfter', () => {
  assert.equal(pick(check(client.certPem, 'client', { now: client.notBefore.getTime() - 1000 })), 'not-yet-valid')
  assert.equal(pick(check(client.certPem, 'client', { now: client.notAfter.getTime() + 1000 })), 'expired')
})

test('revoked: the revocation view refuses the serial', () => {
  const idx = { ...EMPTY_INDEX, certs: [{ serial: client.serial, name: 'alice', kind: 'client' as const, keyType: 'ecdsa' as const, notBefore: '', notAfter: '', status: 'revoked' as const, revokedAt: new Date().toISOString(), reason: 'keyCompromise' as const, fingerprint256: '', certPem: '' }] }
  assert.equal(pick(check(client.certPem, 'client', { revocation: revocationOf(idx) })), 'revoked')
  assert.ok(check(server.certPem, 'server', { revocation: revocationOf(idx) }).ok)
})

test('is-ca: the CA certificate itself is no peer identity', () => {
  assert.equal(pick(check(caPair.certPem, 'client')), 'is-ca')
})

test('wrong-usage: a client certificate cannot pose as the gateway; keyUsage without digitalSignature; EKU for another purpose', () => {
  assert.equal(pick(check(client.certPem, 'server')), 'wrong-usage')
  assert.equal(pick(check(forgeCert({ keyUsage: { keyEncipherment: true } }), 'client')), 'wrong-usage')
  assert.equal(pick(check(forgeCert({ eku: { codeSigning: true } }), 'client')), 'wrong-usage')
  assert.ok(check(forgeCert({ eku: { '1.3.6.1.5.5.7.3.17': true } }), 'server').ok, 'ipsecIKE serves both roles')
  assert.ok(check(forgeCert({}), 'server').ok, 'no keyUsage and no EKU: unrestricted')
})

test('malformed: garbage, truncation; property: never throws on random or mutated bytes', () => {
  const good = der(server.certPem)
  assert.equal(pick(verifyPeerCertificate(new Uint8Array([1, 2, 3]), { anchors, now, role: 'client' })), 'malformed')
  assert.equal(pick(verifyPeerCertificate(good.subarray(0, 100), { anchors, now, role: 'client' })), 'malformed')
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => { verifyPeerCertificate(b, { anchors, now, role: 'client' }) }), { numRuns: 300 })
  fc.assert(fc.property(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
    const b = good.slice(); b[i]! ^= x
    const v = verifyPeerCertificate(b, { anchors, now, role: 'server' })
    assert.equal(v.ok, false, `flip at ${i} accepted`) // every byte is covered by the CA signature
  }), { numRuns: 300 })
})

function pick(v: ReturnType<typeof verifyPeerCertificate>): string {
  return v.ok ? 'ok' : v.reason
}

/** A certificate from our CA with the given keyUsage/EKU, built with forge (independent of issue.ts). */
function forgeCert(opts: { keyUsage?: Record<string, boolean>; eku?: Record<string, boolean> }): string {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 1024, e: 0x10001 })
  const cert = forge.pki.createCertificate()
  cert.publicKey = keys.publicKey
  cert.serialNumber = '01' + forge.util.bytesToHex(forge.random.getBytesSync(8))
  cert.validity.notBefore = new Date(now - 60_000)
  cert.validity.notAfter = new Date(now + 86_400_000)
  cert.setSubject([{ shortName: 'CN', value: 'forged-usage' }])
  cert.setIssuer(forge.pki.certificateFromPem(caPair.certPem).subject.attributes)
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    ...(opts.keyUsage ? [{ name: 'keyUsage', ...opts.keyUsage }] : []),
    ...(opts.eku ? [{ name: 'extKeyUsage', ...opts.eku }] : []),
  ])
  cert.sign(forge.pki.privateKeyFromPem(createPrivateKey(caPair.keyPem).export({ type: 'pkcs1', format: 'pem' }) as string), forge.md.sha256.create())
  return forge.pki.certificateToPem(cert)
}

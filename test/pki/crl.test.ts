// CRLs (RFC 5280 §5): a hand-built golden TBSCertList, openssl's reading of it (signature, version,
// extensions, reasons), and `openssl verify -crl_check` refusing a revoked certificate only.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { X509Certificate, verify } from 'node:crypto'
import { createCa, loadCa } from '../../src/pki/ca.js'
import { issueCert } from '../../src/pki/issue.js'
import { buildCrl, CRL_REASONS } from '../../src/pki/crl.js'
import { VpnError } from '../../src/lib/errors.js'
import { derHeader, derTlv, openssl, Scratch } from './openssl.js'

const caPair = createCa({ commonName: 'CRL Test CA', keyBits: 2048 })
const ca = loadCa(caPair)
const tmp = new Scratch()
after(() => tmp.remove())
const caFile = tmp.file('ca.pem', caPair.certPem)
const t0 = new Date('2026-11-27T08:00:00Z')
const t1 = new Date('2027-05-26T08:00:00Z')
const pemToDer = (pem: string): Buffer => Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')

test('golden TBSCertList (RFC 5280 §5.1): v2, sha256WithRSA, issuer, UTCTime updates, one entry with reasonCode, AKI and cRLNumber; signed by the CA', () => {
  const pem = buildCrl(ca, [{ serial: '0a', revokedAt: t0, reason: 'keyCompromise' }], { crlNumber: 5, thisUpdate: t0, nextUpdate: t1 })
  assert.match(pem, /^-----BEGIN X509 CRL-----\n([A-Za-z0-9+/=]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END X509 CRL-----\n$/)
  const crl = pemToDer(pem)
  const outer = derTlv(crl, 0)
  const tbsTlv = derTlv(crl, outer.start)
  const tbs = crl.subarray(outer.start, tbsTlv.end)
  // The issuer Name: the CA certificate's subject, copied byte for byte (found in the CA's DER).
  const afterAlg = derTlv(crl, derTlv(crl, tbsTlv.start).end).end
  const issuer = crl.subarray(afterAlg, derTlv(crl, afterAlg).end).toString('hex')
  assert.ok(Buffer.from(new X509Certificate(caPair.certPem).raw).toString('hex').includes(issuer))
  const utc = (s: string): string => '170d' + Buffer.from(s).toString('hex')
  const keyId = Buffer.from(ca.keyId).toString('hex')
  assert.equal(keyId.length, 40)
  const body = [
    '020101', // version v2 (§5.1.2.1)
    '300d06092a864886f70d01010b0500', // sha256WithRSAEncryption, NULL parameters (RFC 4055 §5)
    issuer,
    utc('261127080000Z'), utc('270526080000Z'), // thisUpdate, nextUpdate: UTCTime before 2050 (§5.1.2.4)
    '3022' + '3020' + '02010a' + utc('261127080000Z') + '300c' + '300a' + '0603551d15' + '0403' + '0a0101', // serial 10, keyCompromise (§5.3.1)
    'a02f' + '302d' + '301f' + '0603551d23' + '0418' + '3016' + '8014' + keyId + // AKI keyIdentifier (§5.2.1)
      '300a' + '0603551d14' + '0403' + '020105', // cRLNumber 5 (§5.2.3)
  ].join('')
  assert.equal(tbs.toString('hex'), derHeader(0x30, body.length / 2) + body)
  // signatureAlgorithm then the BIT STRING signature over the TBS, by the CA key
  const sigAlg = derTlv(crl, tbsTlv.end)
  const sig = derTlv(crl, sigAlg.end)
  assert.equal(crl.subarray(tbsTlv.end, sigAlg.end).toString('hex'), '300d06092a864886f70d01010b0500')
  assert.equal(crl[sig.start], 0) // no unused bits
  assert.ok(verify('sha256', tbs, new X509Certificate(caPair.certPem).publicKey, crl.subarray(sig.start + 1, sig.end)))
})

test('openssl crl verifies the signature and reads an empty CRL (no revokedCertificates at all, §5.1.2.6)', () => {
  const f = tmp.file('empty.pem', buildCrl(ca, [], { crlNumber: 1, thisUpdate: t0, nextUpdate: t1 }))
  const r = openssl(['crl', '-in', f, '-noout', '-text', '-CAfile', caFile])
  assert.equal(r.code, 0, r.err)
  assert.match(r.err + r.out, /verify OK/)
  assert.match(r.out, /Version 2 \(0x1\)/)
  assert.match(r.out, /Last Update: Nov 27 08:00:00 2026 GMT\n\s+Next Update: May 26 08:00:00 2027 GMT/)
  assert.match(r.out, /X509v3 CRL Number: \n\s+1\n/)
  assert.match(r.out, /No Revoked Certificates\./)
})

test('openssl reads every reason; unspecified carries no reasonCode (§5.3.1 SHOULD); a serial with the top bit set stays positive', () => {
  const entries = Object.keys(CRL_REASONS).map((reason, i) => ({ serial: (0x80 + i).toString(16) + 'ff', revokedAt: t0, reason: reason as keyof typeof CRL_REASONS }))
  const f = tmp.file('all.pem', buildCrl(ca, entries, { crlNumber: 300, thisUpdate: t0, nextUpdate: t1 }))
  const r = openssl(['crl', '-in', f, '-noout', '-text', '-CAfile', caFile])
  assert.equal(r.code, 0, r.err)
  assert.match(r.out, /X509v3 CRL Number: \n\s+300\n/)
  assert.match(r.out, /Serial Number: 80FF\n\s+Revocation Date: Nov 27 08:00:00 2026 GMT\n\s+Serial Number: 81FF/) // unspecified: no entry extensions
  for (const label of ['Key Compromise', 'CA Compromise', 'Affiliation Changed', 'Superseded', 'Cessation Of Operation', 'Privilege Withdrawn']) assert.match(r.out, new RegExp(label))
  assert.doesNotMatch(r.out, /Unspecified/)
})

test('openssl verify -crl_check refuses the revoked certificate and accepts the other', () => {
  const revoked = issueCert(ca, { kind: 'client', commonName: 'gone' })
  const kept = issueCert(ca, { kind: 'client', commonName: 'kept' })
  const crl = tmp.file('crl.pem', buildCrl(ca, [{ serial: revoked.serial, revokedAt: t0, reason: 'superseded' }], { crlNumber: 2, thisUpdate: new Date(Date.now() - 60_000), nextUpdate: new Date(Date.now() + 86_400_000) }))
  const bad = openssl(['verify', '-crl_check', '-CAfile', caFile, '-CRLfile', crl, tmp.file('gone.pem', revoked.certPem)])
  assert.notEqual(bad.code, 0)
  assert.match(bad.out + bad.err, /certificate revoked/)
  const good = openssl(['verify', '-crl_check', '-CAfile', caFile, '-CRLfile', crl, tmp.file('kept.pem', kept.certPem)])
  assert.equal(good.code, 0, good.err)
})

test('refusals: CRL number below 1, nextUpdate not after thisUpdate, a serial that is not hex', () => {
  const isPki = (e: unknown): boolean => e instanceof VpnError && e.code === 'ERR_PKI'
  assert.throws(() => buildCrl(ca, [], { crlNumber: 0, thisUpdate: t0, nextUpdate: t1 }), isPki)
  assert.throws(() => buildCrl(ca, [], { crlNumber: 1, thisUpdate: t1, nextUpdate: t0 }), isPki)
  assert.throws(() => buildCrl(ca, [{ serial: 'zz', revokedAt: t0, reason: 'superseded' }], { crlNumber: 1, thisUpdate: t0, nextUpdate: t1 }), isPki)
})

// CA and server certificates: extensions checked with node:crypto X509Certificate, and a real
// node:tls handshake on loopback with a client that trusts only our CA.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto'
import { connect, createServer, type TLSSocket } from 'node:tls'
import type { AddressInfo } from 'node:net'
import forge from 'node-forge'
import { certInfo, createCa, issueServerCert, OID_IKE_INTERMEDIATE } from '../../src/pki/ca.js'
import { VpnError } from '../../src/lib/errors.js'

const ca = createCa({ commonName: 'Gatehouse Test CA' })
const server = issueServerCert(ca, { commonName: 'vpn.example.test', dnsNames: ['vpn.example.test', 'gw.example.test'], ipAddresses: ['127.0.0.1', '198.18.0.1'] })
const caX = new X509Certificate(ca.certPem)
const srvX = new X509Certificate(server.certPem)

test('the CA is self-signed, CA:true, 3072-bit RSA with SHA-256 and the required extensions', () => {
  assert.equal(caX.ca, true)
  assert.ok(caX.verify(caX.publicKey))
  assert.equal(caX.publicKey.asymmetricKeyDetails?.modulusLength, 3072)
  const f = forge.pki.certificateFromPem(ca.certPem)
  assert.equal(f.siginfo.algorithmOid, forge.pki.oids.sha256WithRSAEncryption)
  const bc = f.getExtension('basicConstraints') as { cA: boolean; critical: boolean }
  assert.equal(bc.cA, true); assert.equal(bc.critical, true)
  const ku = f.getExtension('keyUsage') as { keyCertSign: boolean; cRLSign: boolean; digitalSignature?: boolean; critical: boolean }
  assert.equal(ku.keyCertSign, true); assert.equal(ku.cRLSign, true); assert.equal(ku.critical, true)
  assert.ok(f.getExtension('subjectKeyIdentifier'))
  // keyPem is PKCS#8 and matches the certificate
  assert.match(ca.keyPem, /^-----BEGIN PRIVATE KEY-----/)
  assert.equal(createPublicKey(createPrivateKey(ca.keyPem)).export({ type: 'spki', format: 'pem' }), caX.publicKey.export({ type: 'spki', format: 'pem' }))
})

test('the server certificate chains to the CA and matches its names and addresses only', () => {
  assert.ok(srvX.verify(caX.publicKey), 'signed by the CA')
  assert.ok(!srvX.verify(srvX.publicKey), 'not self-signed')
  assert.ok(srvX.checkIssued(caX))
  assert.equal(srvX.ca, false)
  assert.equal(srvX.checkHost('vpn.example.test'), 'vpn.example.test')
  assert.equal(srvX.checkHost('gw.example.test'), 'gw.example.test')
  assert.equal(srvX.checkHost('other.example.test'), undefined)
  assert.equal(srvX.checkIP('127.0.0.1'), '127.0.0.1')
  assert.equal(srvX.checkIP('198.18.0.1'), '198.18.0.1')
  assert.equal(srvX.checkIP('198.18.0.2'), undefined)
  assert.deepEqual(srvX.keyUsage?.slice().sort(), ['1.3.6.1.5.5.7.3.1', OID_IKE_INTERMEDIATE].sort()) // node lists the EKU here
})

test('the server certificate carries the extensions Windows SSTP and RFC 5280 expect', () => {
  const f = forge.pki.certificateFromPem(server.certPem)
  const ku = f.getExtension('keyUsage') as { digitalSignature: boolean; keyEncipherment: boolean; keyCertSign?: boolean }
  assert.equal(ku.digitalSignature, true); assert.equal(ku.keyEncipherment, true); assert.ok(!ku.keyCertSign)
  const eku = f.getExtension('extKeyUsage') as Record<string, unknown>
  assert.equal(eku.serverAuth, true)
  assert.equal(eku[OID_IKE_INTERMEDIATE], true)
  const aki = f.getExtension('authorityKeyIdentifier') as { value: string }
  const caSki = (forge.pki.certificateFromPem(ca.certPem).getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier: string }).subjectKeyIdentifier
  // AKI value is SEQUENCE { [0] keyIdentifier }: the key id must be the CA's SKI, not the server's own.
  const akiAsn = forge.asn1.fromDer(aki.value)
  const kid = forge.util.bytesToHex((akiAsn.value as forge.asn1.Asn1[])[0]!.value as string)
  assert.equal(kid, caSki)
  const serverSki = (f.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier: string }).subjectKeyIdentifier
  assert.notEqual(kid, serverSki)
  assert.equal(f.siginfo.algorithmOid, forge.pki.oids.sha256WithRSAEncryption)
})

test('certInfo reports subject, SANs, validity and fingerprint', () => {
  const i = certInfo(server.certPem)
  assert.match(i.subject, /CN=vpn\.example\.test/)
  assert.match(i.issuer, /CN=Gatehouse Test CA/)
  assert.deepEqual(i.dnsNames, ['vpn.example.test', 'gw.example.test'])
  assert.deepEqual(i.ipAddresses, ['127.0.0.1', '198.18.0.1'])
  assert.equal(i.fingerprint256, srvX.fingerprint256)
  assert.match(i.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
  assert.equal(i.isCa, false)
  const days = (i.validTo.getTime() - i.validFrom.getTime()) / 86_400_000
  assert.ok(days > 825 && days < 826, `validity ${days} days`)
  assert.ok(i.validFrom.getTime() < new Date().getTime())
  // two issues get different random serials
  const again = issueServerCert(ca, { commonName: 'x', dnsNames: ['x.test'], ipAddresses: [] })
  assert.notEqual(certInfo(again.certPem).serialNumber, i.serialNumber)
  assert.throws(() => certInfo('garbage'), (e: unknown) => e instanceof VpnError && e.code === 'ERR_PKI')
})

test('bad inputs are refused with ERR_PKI', () => {
  const isPki = (e: unknown): boolean => e instanceof VpnError && e.code === 'ERR_PKI'
  assert.throws(() => issueServerCert(ca, { commonName: 'a', dnsNames: ['bad name'], ipAddresses: [] }), isPki)
  assert.throws(() => issueServerCert(ca, { commonName: 'a', dnsNames: [], ipAddresses: ['1.2.3'] }), isPki)
  assert.throws(() => issueServerCert(ca, { commonName: 'a', dnsNames: [], ipAddresses: [] }), isPki)
  assert.throws(() => issueServerCert({ certPem: ca.certPem, keyPem: server.keyPem }, { commonName: 'a', dnsNames: ['a.test'], ipAddresses: [] }), isPki)
  assert.throws(() => issueServerCert({ certPem: server.certPem, keyPem: server.keyPem }, { commonName: 'a', dnsNames: ['a.test'], ipAddresses: [] }), isPki)
  assert.throws(() => createCa({ commonName: '' }), isPki)
})

function handshake(port: number, opts: { host: string; servername?: string }): Promise<{ ok: true } | { ok: false; code: string }> {
  return new Promise((resolve) => {
    const s: TLSSocket = connect({ port, host: opts.host, servername: opts.servername, ca: [ca.certPem] })
    s.once('secureConnect', () => { s.end(); resolve({ ok: true }) })
    s.once('error', (e: NodeJS.ErrnoException) => { s.destroy(); resolve({ ok: false, code: e.code ?? e.message }) })
  })
}

test('node:tls: a client trusting only the CA accepts the server for its IP and DNS names and refuses another name', async () => {
  const srv = createServer({ cert: server.certPem, key: server.keyPem }, (sock) => { sock.on('error', () => {}); sock.end() })
  srv.on('tlsClientError', () => {})
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as AddressInfo).port
  try {
    assert.deepEqual(await handshake(port, { host: '127.0.0.1' }), { ok: true }) // IP SAN
    assert.deepEqual(await handshake(port, { host: '127.0.0.1', servername: 'vpn.example.test' }), { ok: true })
    assert.deepEqual(await handshake(port, { host: '127.0.0.1', servername: 'gw.example.test' }), { ok: true })
    assert.deepEqual(await handshake(port, { host: '127.0.0.1', servername: 'evil.example.test' }), { ok: false, code: 'ERR_TLS_CERT_ALTNAME_INVALID' })
    // A client that trusts another CA refuses the chain.
    const other = createCa({ commonName: 'Other CA', keyBits: 2048 })
    const r = await new Promise<string>((resolve) => {
      const s = connect({ port, host: '127.0.0.1', ca: [other.certPem] })
      s.once('secureConnect', () => { s.end(); resolve('accepted') })
      s.once('error', (e: NodeJS.ErrnoException) => { s.destroy(); resolve(e.code ?? 'error') })
    })
    assert.notEqual(r, 'accepted')
  } finally {
    await new Promise<void>((r) => srv.close(() => r()))
  }
})

// The bundles in use: a node:tls server (our server profile, CA + CRL from the CA directory) that
// requires a client certificate, and clients presenting their PKCS#12 bundle (pfx + passphrase).
// OpenSSL's own checks decide: chain, clientAuth EKU (a server certificate is refused as a client)
// and revocation through crl.pem.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect, createServer } from 'node:tls'
import type { AddressInfo } from 'node:net'
import { createCa } from '../../src/pki/ca.js'
import { issueToDir, revokeInDir, type CaFiles } from '../../src/pki/ca-dir.js'
import { decodePkcs12 } from '../../src/pki/pkcs12.js'
import { Scratch } from './openssl.js'

const PW = 'Tls-Bundle-Pass-9'
const tmp = new Scratch()
after(() => tmp.remove())
const caPair = createCa({ commonName: 'TLS Bundle CA', keyBits: 2048 })
const files: CaFiles = { dir: tmp.dir, caCert: tmp.file('ca.pem', caPair.certPem), caKey: tmp.file('ca-key.pem', caPair.keyPem) }
const issue = (name: string, kind: 'client' | 'server', keyType: 'rsa' | 'ecdsa', profile: 'modern' | 'legacy'): Buffer => {
  issueToDir(files, { kind, name, dnsNames: kind === 'server' ? [`${name}.test`] : [], ipAddresses: kind === 'server' ? ['127.0.0.1'] : [], keyType, p12File: tmp.path(`${name}.p12`), password: PW, profile })
  return readFileSync(tmp.path(`${name}.p12`))
}
const gw = decodePkcs12(issue('gw', 'server', 'rsa', 'modern'), PW)
const alice = issue('alice', 'client', 'rsa', 'modern')
const bob = issue('bob', 'client', 'ecdsa', 'legacy')
const carol = issue('carol', 'client', 'rsa', 'modern')
const other = issue('other-gw', 'server', 'ecdsa', 'modern')
revokeInDir(files, 'carol', 'affiliationChanged')

/** Connects with `pfx`; the server (requestCert, verdict left to us) answers with OpenSSL's verdict. */
async function attempt(pfx: Buffer): Promise<string> {
  const srv = createServer({ cert: gw.certPem, key: gw.keyPem, ca: [caPair.certPem], crl: readFileSync(join(tmp.dir, 'crl.pem')), requestCert: true, rejectUnauthorized: false }, (s) => {
    s.on('error', () => {})
    s.end(s.authorized ? 'accepted' : `refused ${String(s.authorizationError)}`)
  })
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  try {
    return await new Promise<string>((resolve, reject) => {
      const s = connect({ port: (srv.address() as AddressInfo).port, host: '127.0.0.1', ca: [caPair.certPem], pfx, passphrase: PW })
      let data = ''
      s.on('data', (d: Buffer) => { data += d.toString() })
      s.on('end', () => resolve(data))
      s.on('error', reject)
    })
  } finally {
    await new Promise<void>((r) => srv.close(() => r()))
  }
}

test('a client presenting its bundle (RSA/AES-256 or ECDSA/3DES) is accepted by a server that trusts the CA', async () => {
  assert.equal(await attempt(alice), 'accepted')
  assert.equal(await attempt(bob), 'accepted')
})

test('a revoked client is refused through crl.pem, a server certificate is refused as a client (no clientAuth EKU)', async () => {
  assert.equal(await attempt(carol), 'refused CERT_REVOKED')
  assert.equal(await attempt(other), 'refused INVALID_PURPOSE')
})

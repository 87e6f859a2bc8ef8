// Main mode with RSA signatures checked from the outside by independent code written from RFC 2409 §5.1
// alone (node:crypto HMAC/AES/DH/RSA, hand-walked payloads): SKEYID = prf(Ni_b | Nr_b, g^xy), the
// encrypted MM5/MM6 carry IDii/IDir (ID_DER_ASN1_DN), CERT (encoding 4) and SIG, and each SIG is HASH_I /
// HASH_R in a PKCS#1 type 1 block under the sender's private key with no DigestInfo around it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { X509Certificate, constants, createDiffieHellman, publicDecrypt } from 'node:crypto'
import type { Rng } from '../../src/crypto/rng.js'
import { MODP_2048_PRIME } from '../../src/ike/v1/crypto/dh.js'
import { createCa, loadCa } from '../../src/pki/ca.js'
import { issueCert } from '../../src/pki/issue.js'
import { fixedRng } from '../helpers/clock.js'
import { R_ADDR, childOf, pair } from './v1-harness.js'
import { body, decrypt, hmac, sha, walkItems } from './v1-independent.js'

/** RFC 2409 §5.1 with RFC 8017 §7.2.1 EMSA: 00 01 FF..FF 00 || HASH, the hash bare (no DigestInfo). */
function assertRsaSig(certDer: Buffer, sig: Buffer, hash: Buffer, what: string): void {
  const block = publicDecrypt({ key: new X509Certificate(certDer).publicKey, padding: constants.RSA_NO_PADDING }, sig)
  assert.equal(block.length, 256, `${what}: one RSA-2048 block`)
  assert.deepEqual([block[0], block[1]], [0, 1], `${what}: block type 1`)
  const sep = block.indexOf(0, 2)
  assert.ok(block.subarray(2, sep).every((b) => b === 0xff) && sep - 2 >= 8, `${what}: FF padding of at least 8 octets`)
  assert.ok(block.subarray(sep + 1).equals(hash), `${what}: the block ends in the bare HASH (${hash.length} octets)`)
}

test('main mode with RSA signatures as checked by an independent RFC 2409 §5.1 implementation', () => {
  const caPem = createCa({ commonName: 'Wire CA' }), ca = loadCa(caPem)
  const server = issueCert(ca, { kind: 'server', commonName: 'vpn.example', dnsNames: ['vpn.example'], ipAddresses: [R_ADDR] })
  const client = issueCert(ca, { kind: 'client', commonName: 'alice.example' })
  const der = (pem: string) => new Uint8Array(new X509Certificate(pem).raw)
  const trust = { anchors: [new X509Certificate(caPem.certPem)], wallClock: () => Date.now() }
  const draws: Uint8Array[] = []
  const base = fixedRng(777)
  const rec: Rng = { bytes(n) { const b = base.bytes(n); draws.push(new Uint8Array(b)); return b } }
  // Ethernet-sized datagrams so MM5/MM6 stay whole in the log (fragmentation: v1-fragmentation.test.ts).
  const p = pair({ seed: 300, extra: { fragmentation: { fragmentSize: 1500 } }, iExtra: { rng: rec, credentials: { certDer: der(client.certPem), keyPem: client.keyPem }, trust }, rExtra: { credentials: { certDer: der(server.certPem), keyPem: server.keyPem }, trust } })
  p.connect()
  p.pump()
  assert.equal(childOf(p.events.i).length, 1)
  const m = p.log.map((l) => Buffer.from(l.data))
  const ckyI = m[0]!.subarray(0, 8), ckyR = m[1]!.subarray(8, 16)
  const saiB = body(walkItems(m[0]![16]!, m[0]!, 28), 1)
  const mm3 = walkItems(m[2]![16]!, m[2]!, 28), mm4 = walkItems(m[3]![16]!, m[3]!, 28)
  const gxi = body(mm3, 4), ni = body(mm3, 10), gxr = body(mm4, 4), nr = body(mm4, 10)
  const priv = draws[draws.findIndex((d) => Buffer.from(d).equals(ni)) - 1]!
  const dh = createDiffieHellman(Buffer.from(MODP_2048_PRIME), Buffer.from([2]))
  dh.setPrivateKey(Buffer.from(priv))
  dh.generateKeys()
  const gxy = Buffer.alloc(256); const s = dh.computeSecret(gxr); s.copy(gxy, 256 - s.length)

  // §5: for signatures SKEYID = prf(Ni_b | Nr_b, g^xy); the rest as for every method.
  const skeyid = hmac(Buffer.concat([ni, nr]), gxy)
  const d = hmac(skeyid, gxy, ckyI, ckyR, Buffer.of(0))
  const a = hmac(skeyid, d, gxy, ckyI, ckyR, Buffer.of(1))
  const key = hmac(skeyid, a, gxy, ckyI, ckyR, Buffer.of(2)).subarray(0, 32)

  // MM5: HDR*, IDii, CERT, SIG_I (+ INITIAL-CONTACT).
  const mm5 = walkItems(m[4]![16]!, decrypt(key, sha(gxi, gxr).subarray(0, 16), m[4]!), 0)
  assert.deepEqual(mm5.map((x) => x.type), [5, 6, 9, 11], 'IDii, CERT, SIG_I, N')
  const idii = body(mm5, 5), certI = body(mm5, 6)
  assert.equal(idii[0], 9, 'ID_DER_ASN1_DN')
  assert.equal(certI[0], 4, 'X.509 Certificate - Signature')
  assert.ok(certI.subarray(1).equals(Buffer.from(der(client.certPem))), 'the client certificate, DER')
  assert.ok(Buffer.from(certI.subarray(1)).includes(idii.subarray(4)) && idii[4] === 0x30, 'the ID is a Name taken from that certificate')
  assertRsaSig(certI.subarray(1), body(mm5, 9), hmac(skeyid, gxi, gxr, ckyI, ckyR, saiB, idii), 'SIG_I')

  // MM6: HDR*, IDir, CERT, SIG_R under the IV chained from MM5's last block.
  const mm6 = walkItems(m[5]![16]!, decrypt(key, m[4]!.subarray(m[4]!.length - 16), m[5]!), 0)
  assert.deepEqual(mm6.map((x) => x.type), [5, 6, 9], 'IDir, CERT, SIG_R')
  const idir = body(mm6, 5), certR = body(mm6, 6)
  assert.ok(certR.subarray(1).equals(Buffer.from(der(server.certPem))))
  assertRsaSig(certR.subarray(1), body(mm6, 9), hmac(skeyid, gxr, gxi, ckyR, ckyI, saiB, idir), 'SIG_R')
})

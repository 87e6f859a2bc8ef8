// ECDSA main mode (RFC 4754 method 9) with a SHA-1 suite, checked from the outside by independent code
// (node:crypto HMAC/AES/DH, hand-walked payloads, RFC 2409 §5 and App. B with SHA-1): the keys and IVs use
// the negotiated SHA-1, while HASH_I/HASH_R — the digest SIG_I/SIG_R sign without hashing again — use
// HMAC-SHA-256, the ECDSA method's hash, as strongSwan's keymat_v1 `prf_auth` does (seen failing in the lab
// otherwise). The signature math itself is pinned by the RFC 4754 vectors in ecdsa-raw.test.ts.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { X509Certificate, createDiffieHellman, createHash, createHmac } from 'node:crypto'
import type { Rng } from '../../src/crypto/rng.js'
import { MODP_2048_PRIME } from '../../src/ike/v1/crypto/dh.js'
import { verifyDigestWithKey } from '../../src/ike/v1/crypto/ecdsa-raw.js'
import { OakleyAuth, OakleyEncryption, OakleyGroup, OakleyHash } from '../../src/ike/v1/oakley.js'
import { createCa, loadCa } from '../../src/pki/ca.js'
import { issueCert } from '../../src/pki/issue.js'
import { fixedRng } from '../helpers/clock.js'
import { R_ADDR, childOf, pair } from './v1-harness.js'
import { body, decrypt, walkItems } from './v1-independent.js'

const mac = (alg: string) => (k: Uint8Array, ...p: Uint8Array[]): Buffer => { const h = createHmac(alg, k); for (const x of p) h.update(x); return h.digest() }
const hmac1 = mac('sha1'), hmac256 = mac('sha256')
const sha1 = (...p: Uint8Array[]): Buffer => { const h = createHash('sha1'); for (const x of p) h.update(x); return h.digest() }

test('ECDSA P-256 with an AES-256/SHA-1 suite: SHA-1 keys and IVs, HASH_I/HASH_R by HMAC-SHA-256, SIG over them as the digest', () => {
  const caPem = createCa({ commonName: 'ECDSA Wire CA' }), ca = loadCa(caPem)
  const server = issueCert(ca, { kind: 'server', commonName: 'vpn.example', dnsNames: ['vpn.example'], ipAddresses: [R_ADDR], keyType: 'ecdsa' })
  const client = issueCert(ca, { kind: 'client', commonName: 'alice.example', keyType: 'ecdsa' })
  const der = (pem: string) => new Uint8Array(new X509Certificate(pem).raw)
  const trust = { anchors: [new X509Certificate(caPem.certPem)], wallClock: () => Date.now() }
  const suite = [{ encryption: OakleyEncryption.AesCbc, keyLength: 256, hash: OakleyHash.Sha1, authMethod: OakleyAuth.EcdsaP256Sha256, group: OakleyGroup.Modp2048, seconds: 28800 }]
  const draws: Uint8Array[] = []
  const base = fixedRng(909)
  const rec: Rng = { bytes(n) { const b = base.bytes(n); draws.push(new Uint8Array(b)); return b } }
  const p = pair({ seed: 620, extra: { fragmentation: { fragmentSize: 1500 } },
    iExtra: { rng: rec, phase1Proposals: suite, credentials: { certDer: der(client.certPem), keyPem: client.keyPem }, trust },
    rExtra: { credentials: { certDer: der(server.certPem), keyPem: server.keyPem }, trust } })
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

  // §5 with the negotiated SHA-1: SKEYID = prf(Ni_b | Nr_b, g^xy); SKEYID_e is 20 bytes, so App. B expands
  // Ka = K1 | K2, K1 = prf(SKEYID_e, 0), K2 = prf(SKEYID_e, K1), and the AES-256 key is its first 32 bytes.
  const skeyid = hmac1(Buffer.concat([ni, nr]), gxy)
  const d = hmac1(skeyid, gxy, ckyI, ckyR, Buffer.of(0))
  const a = hmac1(skeyid, d, gxy, ckyI, ckyR, Buffer.of(1))
  const e = hmac1(skeyid, a, gxy, ckyI, ckyR, Buffer.of(2))
  const k1 = hmac1(e, Buffer.of(0)), k2 = hmac1(e, k1)
  const key = Buffer.concat([k1, k2]).subarray(0, 32)

  const mm5 = walkItems(m[4]![16]!, decrypt(key, sha1(gxi, gxr).subarray(0, 16), m[4]!), 0)
  assert.deepEqual(mm5.map((x) => x.type), [5, 6, 9, 11], 'IDii, CERT, SIG_I, N')
  const idii = body(mm5, 5), sigI = body(mm5, 9)
  assert.equal(sigI.length, 64, 'r | s, 32 bytes each (RFC 4754 §7)')
  const clientKey = new X509Certificate(client.certPem).publicKey
  const hashI256 = hmac256(skeyid, gxi, gxr, ckyI, ckyR, saiB, idii)
  const hashI1 = hmac1(skeyid, gxi, gxr, ckyI, ckyR, saiB, idii)
  assert.equal(verifyDigestWithKey(clientKey, hashI256, sigI), true, 'SIG_I signs HMAC-SHA-256 HASH_I')
  assert.equal(verifyDigestWithKey(clientKey, hashI1, sigI), false, 'not the SHA-1 HASH_I')

  const mm6 = walkItems(m[5]![16]!, decrypt(key, m[4]!.subarray(m[4]!.length - 16), m[5]!), 0)
  assert.deepEqual(mm6.map((x) => x.type), [5, 6, 9], 'IDir, CERT, SIG_R')
  const hashR256 = hmac256(skeyid, gxr, gxi, ckyR, ckyI, saiB, body(mm6, 5))
  assert.equal(verifyDigestWithKey(new X509Certificate(server.certPem).publicKey, hashR256, body(mm6, 9)), true, 'SIG_R signs HMAC-SHA-256 HASH_R')
})

// The endpoints' main mode + quick mode checked from the outside by independent code written from RFC
// 2409 alone (node:crypto HMAC/AES/DH, hand-walked payloads): SKEYID family (§5), the App. B IVs,
// HASH_I/HASH_R (§5), HASH(1)/(2)/(3) (§5.5) and KEYMAT per direction keyed by the receiver's SPI (§5.5).
// Catches symmetric mistakes that a pair test cannot (both sides sharing the same wrong input order).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createDiffieHellman } from 'node:crypto'
import type { Rng } from '../../src/crypto/rng.js'
import { MODP_2048_PRIME } from '../../src/ike/v1/crypto/dh.js'
import { fixedRng } from '../helpers/clock.js'
import { childOf, pair } from './v1-harness.js'
import { be32, body, cat, decrypt, hmac, lastBlock, sha, walk } from './v1-independent.js'

test('main mode + quick mode as computed by an independent RFC 2409 implementation', () => {
  const draws: Uint8Array[] = []
  const base = fixedRng(4242)
  // Copies: the endpoint zeroes its DH private value once g^xy is known.
  const rec: Rng = { bytes(n) { const b = base.bytes(n); draws.push(new Uint8Array(b)); return b } }
  const p = pair({ seed: 200, iExtra: { rng: rec } })
  p.connect()
  p.pump()
  const [ci] = childOf(p.events.i), [cr] = childOf(p.events.r)
  assert.ok(ci && cr)
  const m = p.log.map((l) => Buffer.from(l.data))
  assert.equal(m.length, 9)
  const ckyI = m[0]!.subarray(0, 8), ckyR = m[1]!.subarray(8, 16)
  const mm1 = walk(m[0]![16]!, m[0]!, 28), mm3 = walk(m[2]![16]!, m[2]!, 28), mm4 = walk(m[3]![16]!, m[3]!, 28)
  const saiB = body(mm1.items, 1)
  const gxi = body(mm3.items, 4), ni = body(mm3.items, 10), gxr = body(mm4.items, 4), nr = body(mm4.items, 10)
  // The initiator's DH private value is the 32-byte draw just before its nonce.
  const k = draws.findIndex((d) => Buffer.from(d).equals(ni))
  const priv = draws[k - 1]!
  const dh = createDiffieHellman(Buffer.from(MODP_2048_PRIME), Buffer.from([2]))
  dh.setPrivateKey(Buffer.from(priv))
  dh.generateKeys()
  assert.ok(dh.getPublicKey().equals(gxi.subarray(gxi.length - dh.getPublicKey().length)), 'the KE payload is g^x of that private value')
  const gxy = Buffer.alloc(256); const s = dh.computeSecret(gxr); s.copy(gxy, 256 - s.length)

  // §5: SKEYID = prf(pre-shared-key, Ni_b | Nr_b); SKEYID_d/a/e; App. B: the key is SKEYID_e's leading bytes.
  const skeyid = hmac(Buffer.from('shared secret'), ni, nr)
  const d = hmac(skeyid, gxy, ckyI, ckyR, Buffer.of(0))
  const a = hmac(skeyid, d, gxy, ckyI, ckyR, Buffer.of(1))
  const e = hmac(skeyid, a, gxy, ckyI, ckyR, Buffer.of(2))
  const key = e.subarray(0, 32)

  // Main mode 5 under IV = hash(g^xi | g^xr); HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b).
  const p5 = decrypt(key, sha(gxi, gxr).subarray(0, 16), m[4]!)
  const mm5 = walk(m[4]![16]!, p5, 0)
  assert.deepEqual(mm5.items.map((x) => x.type), [5, 8, 11], 'IDii, HASH_I, INITIAL-CONTACT')
  assert.ok(body(mm5.items, 8).equals(hmac(skeyid, gxi, gxr, ckyI, ckyR, saiB, body(mm5.items, 5))), 'HASH_I')
  assert.equal(body(mm5.items, 11).readUInt16BE(6), 24578, 'INITIAL-CONTACT')
  // Main mode 6 chains from main mode 5's last block; HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b).
  const p6 = decrypt(key, lastBlock(m[4]!), m[5]!)
  const mm6 = walk(m[5]![16]!, p6, 0)
  assert.ok(body(mm6.items, 8).equals(hmac(skeyid, gxr, gxi, ckyR, ckyI, saiB, body(mm6.items, 5))), 'HASH_R')

  // Quick mode 1: IV = hash(last phase 1 block | M-ID); HASH(1) = prf(SKEYID_a, M-ID | SA | Ni | IDci | IDcr).
  const mid = m[6]!.readUInt32BE(20)
  const q1p = decrypt(key, sha(lastBlock(m[5]!), be32(mid)).subarray(0, 16), m[6]!)
  const q1 = walk(m[6]![16]!, q1p, 0)
  assert.deepEqual(q1.items.map((x) => x.type), [8, 1, 10, 5, 5])
  assert.ok(q1.items[0]!.body.equals(hmac(a, be32(mid), q1p.subarray(q1.items[1]!.whole.byteOffset - q1p.byteOffset, q1.end))), 'HASH(1)')
  const idci = q1.items[3]!.body
  assert.deepEqual([idci[0], idci[1], idci.readUInt16BE(2)], [1, 17, 1701], 'IDci: ID_IPV4_ADDR, UDP, 1701')
  const niQ = body(q1.items, 10)
  const spiI = body(q1.items, 1).subarray(8 + 8, 8 + 12)
  // Quick mode 2 chains from quick mode 1; HASH(2) = prf(SKEYID_a, M-ID | Ni_b | SA | Nr | IDci | IDcr).
  const q2p = decrypt(key, lastBlock(m[6]!), m[7]!)
  const q2 = walk(m[7]![16]!, q2p, 0)
  assert.ok(q2.items[0]!.body.equals(hmac(a, be32(mid), niQ, q2p.subarray(q2.items[1]!.whole.byteOffset - q2p.byteOffset, q2.end))), 'HASH(2)')
  const nrQ = body(q2.items, 10)
  const spiR = body(q2.items, 1).subarray(16, 20)
  // Quick mode 3: HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b).
  const q3p = decrypt(key, lastBlock(m[7]!), m[8]!)
  assert.ok(walk(m[8]![16]!, q3p, 0).items[0]!.body.equals(hmac(a, Buffer.of(0), be32(mid), niQ, nrQ)), 'HASH(3)')

  // KEYMAT = K1 | K2 ..., K1 = prf(SKEYID_d, protocol | SPI | Ni_b | Nr_b), Kn = prf(SKEYID_d, Kn-1 | protocol | SPI | Ni_b | Nr_b).
  const keymat = (spi: Uint8Array, len: number): Buffer => {
    const seed = cat(Buffer.of(3), spi, niQ, nrQ)
    let out: Buffer = Buffer.alloc(0), prev: Buffer = Buffer.alloc(0)
    while (out.length < len) { prev = hmac(d, prev, seed); out = Buffer.concat([out, prev]) }
    return out.subarray(0, len)
  }
  assert.equal(cr.inbound.spi, spiR.readUInt32BE(0))
  assert.equal(ci.inbound.spi, spiI.readUInt32BE(0))
  assert.ok(keymat(spiR, 52).equals(cr.inbound.keymat), 'responder inbound = KEYMAT with the responder\'s SPI')
  assert.ok(keymat(spiR, 52).equals(ci.outbound.keymat), 'initiator outbound = the same')
  assert.ok(keymat(spiI, 52).equals(ci.inbound.keymat), 'initiator inbound = KEYMAT with the initiator\'s SPI')
})

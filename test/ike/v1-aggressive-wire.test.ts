// Aggressive mode (RFC 2409 §5.4) from the outside, by independent code written from the RFC (node:crypto
// HMAC/AES, hand-walked payloads): what one captured AM1 + AM2 give an offline attacker — HASH_R checked for
// a guessed PSK with nothing else (SKEYID = prf(PSK, Ni_b | Nr_b), HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R |
// CKY-I | SAi_b | IDir_b)), i.e. why AGGRESSIVE_MODE_WARNING exists — and, with the initiator's DH value
// (recorded from its Rng), SKEYID_e and AM3 decrypted under the App. B IV hash(g^xi | g^xr) to HASH_I.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createDecipheriv, createDiffieHellman } from 'node:crypto'
import type { Rng } from '../../src/crypto/rng.js'
import { MODP_2048_PRIME } from '../../src/ike/v1/crypto/dh.js'
import { fixedRng } from '../helpers/clock.js'
import { addressBytes } from '../../src/ike/v1/nat-t.js'
import { hostSelector } from '../../src/ike/v1/tasks/quick-mode.js'
import { R_ADDR, I_ADDR, childOf, pair } from './v1-harness.js'
import { body, hmac, sha, walkItems } from './v1-independent.js'

const SA = 1, KE = 4, ID = 5, HASH = 8, NONCE = 10

test('one captured AM1 + AM2: a dictionary finds the PSK offline from HASH_R alone; AM3 decrypts to HASH_I over IDii_b', () => {
  const secret = 'summer2026'
  const draws: Uint8Array[] = []
  const base = fixedRng(6100)
  const rec: Rng = { bytes(n) { const b = base.bytes(n); draws.push(new Uint8Array(b)); return b } }
  const p = pair({ seed: 610, iPsk: secret, rPsk: secret, iExtra: { rng: rec }, rExtra: { aggressive: true } })
  p.i.connect(p.clock.now, { address: R_ADDR, port: 500 }, { mode: 'transport', selectors: { local: hostSelector(addressBytes(I_ADDR), 17, 1701), remote: hostSelector(addressBytes(R_ADDR), 17, 1701) } }, { aggressive: true })
  p.pump()
  assert.equal(childOf(p.events.r).length, 1)
  const [am1, am2, am3] = p.log.slice(0, 3).map((l) => Buffer.from(l.data))
  for (const m of [am1!, am2!, am3!]) assert.equal(m[18], 4, 'exchange type 4 (aggressive)')
  const ckyI = am1!.subarray(0, 8), ckyR = am2!.subarray(8, 16)
  const m1 = walkItems(am1![16]!, am1!, 28), m2 = walkItems(am2![16]!, am2!, 28)
  const saiB = body(m1, SA), gxi = body(m1, KE), ni = body(m1, NONCE), idiiB = body(m1, ID)
  const gxr = body(m2, KE), nr = body(m2, NONCE), idirB = body(m2, ID), hashRWire = body(m2, HASH)

  // The attacker's loop (psk-crack): every guess costs two HMACs, no packet to anyone.
  const guesses = ['password', 'vpn', 'letmein', 'summer2025', 'summer2026', 'winter2026']
  const found = guesses.find((g) => {
    const skeyid = hmac(Buffer.from(g), ni, nr)
    return hmac(skeyid, gxr, gxi, ckyR, ckyI, saiB, idirB).equals(hashRWire)
  })
  assert.equal(found, secret)

  // The rest of §5 needs g^xy, which a passive attacker lacks: the initiator's DH private value is the
  // 32-byte draw just before its nonce (the endpoint zeroes its own copy).
  const priv = draws[draws.findIndex((x) => Buffer.from(x).equals(ni)) - 1]!
  const dh = createDiffieHellman(Buffer.from(MODP_2048_PRIME), Buffer.from([2]))
  dh.setPrivateKey(Buffer.from(priv))
  dh.generateKeys()
  assert.ok(dh.getPublicKey().equals(gxi.subarray(gxi.length - dh.getPublicKey().length)), 'the KE payload is g^x of that value')
  const gxy = Buffer.alloc(256); const sec = dh.computeSecret(gxr); sec.copy(gxy, 256 - sec.length)
  const skeyid = hmac(Buffer.from(secret), ni, nr)
  const skD = hmac(skeyid, gxy, ckyI, ckyR, Buffer.of(0))
  const skA = hmac(skeyid, skD, gxy, ckyI, ckyR, Buffer.of(1))
  const skE = hmac(skeyid, skA, gxy, ckyI, ckyR, Buffer.of(2))
  const hashI = hmac(skeyid, gxi, gxr, ckyI, ckyR, saiB, idiiB)
  assert.equal(am3![19]! & 1, 1, 'AM3 has the E flag')
  const d = createDecipheriv('aes-256-cbc', skE.subarray(0, 32), sha(gxi, gxr).subarray(0, 16))
  d.setAutoPadding(false)
  const plain = Buffer.concat([d.update(am3!.subarray(28)), d.final()])
  const m3 = walkItems(am3![16]!, plain, 0)
  assert.deepEqual(body(m3, HASH), hashI, 'HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)')
})

// Diffie-Hellman groups against the RFC text (RFC 2409 §6.2, RFC 3526 §3) and RFC 5903 §8 ECDH vectors;
// message encryption with RFC 3602 §4 vectors, RFC 2409 Appendix B IVs, CBC chaining and zero padding.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { fromHex, toHex } from '../../src/lib/bytes.js'
import { DecodeError } from '../../src/lib/errors.js'
import { DH_GROUPS, DhExchange, MODP_1024_PRIME, MODP_2048_PRIME, MODP_GENERATOR } from '../../src/ike/v1/crypto/dh.js'
import { IKE_HASHES, ikeCipher } from '../../src/ike/v1/crypto/algorithms.js'
import { decryptBody, encryptBody, phase1Iv, phase2Iv } from '../../src/ike/v1/crypto/cbc.js'
import { OakleyEncryption, OakleyHash } from '../../src/ike/v1/oakley.js'
import { decodePayloadChain, encodePayloadChain } from '../../src/ike/v1/message/message.js'
import { fixedRng } from '../helpers/clock.js'
import { loadVectors } from '../crypto/load-vectors.js'

const dh = loadVectors<{
  modp: { group: number; prime: string; generator: number }[]
  ecp: { group: number; i: string; gix: string; giy: string; r: string; grx: string; gry: string; girx: string }[]
}>('ike', 'dh-groups')

test('RFC 2409 §6.2 and RFC 3526 §3: the MODP primes and generator match the RFC text', () => {
  const [g2, g14] = dh.modp
  assert.equal(toHex(MODP_1024_PRIME), toHex(fromHex(g2!.prime)))
  assert.equal(toHex(MODP_2048_PRIME), toHex(fromHex(g14!.prime)))
  assert.equal(MODP_GENERATOR, g2!.generator)
  assert.equal(DH_GROUPS[2]!.prime, MODP_1024_PRIME)
  assert.equal(DH_GROUPS[14]!.prime, MODP_2048_PRIME)
})

for (const e of dh.ecp) {
  test(`RFC 5903 §8 group ${e.group}: public values are x | y and the shared secret is x`, () => {
    const i = new DhExchange(e.group, fixedRng(1), fromHex(e.i))
    const r = new DhExchange(e.group, fixedRng(2), fromHex(e.r))
    assert.equal(toHex(i.publicValue), e.gix + e.giy)
    assert.equal(toHex(r.publicValue), e.grx + e.gry)
    assert.equal(toHex(i.computeShared(r.publicValue)!), e.girx)
    assert.equal(toHex(r.computeShared(i.publicValue)!), e.girx)
  })
}

test('RFC 5903 ECP: a point off the curve or of the wrong length gives undefined, never a throw', () => {
  const e = dh.ecp[0]!
  const i = new DhExchange(19, fixedRng(1), fromHex(e.i))
  const bad = fromHex(e.grx + e.gry)
  bad[63] = bad[63]! ^ 1
  assert.equal(i.computeShared(bad), undefined)
  assert.equal(i.computeShared(bad.subarray(0, 32)), undefined)
})

for (const group of [2, 14]) {
  test(`MODP group ${group}: both sides agree; values are padded to the prime length (RFC 2409 §5)`, () => {
    const a = new DhExchange(group, fixedRng(3)), b = new DhExchange(group, fixedRng(4))
    const len = DH_GROUPS[group]!.publicLength
    assert.equal(a.publicValue.length, len)
    const s1 = a.computeShared(b.publicValue)!, s2 = b.computeShared(a.publicValue)!
    assert.equal(s1.length, len)
    assert.deepEqual(s1, s2)
    // g^x mod p checked with BigInt, independently of OpenSSL.
    const big = (u: Uint8Array): bigint => BigInt('0x' + (toHex(u) || '0'))
    const p = big(DH_GROUPS[group]!.prime!)
    let r = 1n, base = 2n, x = big(fixedRng(3).bytes(32))
    while (x > 0n) { if (x & 1n) r = (r * base) % p; base = (base * base) % p; x >>= 1n }
    assert.equal(big(a.publicValue), r)
  })
}

test('MODP: 0, 1, p-1, p and short values are refused (small-subgroup confinement)', () => {
  const a = new DhExchange(2, fixedRng(3))
  const p = MODP_1024_PRIME
  const pm1 = new Uint8Array(p); pm1[127]! -= 1
  const one = new Uint8Array(128); one[127] = 1
  for (const bad of [new Uint8Array(128), one, pm1, p, p.subarray(1)]) assert.equal(a.computeShared(bad), undefined)
  a.destroy()
  assert.equal(a.computeShared(new DhExchange(2, fixedRng(4)).publicValue), undefined)
})

test('unsupported groups are a RangeError (configuration bug), not a DecodeError', () => {
  assert.throws(() => new DhExchange(1, fixedRng(1)), RangeError)
})

const cbc = loadVectors<{ cases: { key: string; iv: string; plaintext: string; ciphertext: string }[] }>('ike', 'aes-cbc')
const aes128 = ikeCipher(OakleyEncryption.AesCbc, 128)!
const sha1 = IKE_HASHES[OakleyHash.Sha1]!

test('RFC 3602 §4 Case #1 and #2 through encryptBody/decryptBody (whole blocks: no padding added)', () => {
  for (const c of cbc.cases) {
    const { ciphertext, nextIv } = encryptBody(aes128, fromHex(c.key), fromHex(c.iv), fromHex(c.plaintext))
    assert.equal(toHex(ciphertext), c.ciphertext)
    assert.equal(toHex(nextIv), c.ciphertext.slice(-32))
    assert.equal(toHex(decryptBody(aes128, fromHex(c.key), fromHex(c.iv), ciphertext).plaintext), c.plaintext)
  }
})

test('RFC 2409 App. B CBC chaining: message 2 encrypted with message 1\'s last block equals one CBC stream (Case #2 split)', () => {
  const c = cbc.cases[1]!
  const m1 = encryptBody(aes128, fromHex(c.key), fromHex(c.iv), fromHex(c.plaintext).subarray(0, 16))
  const m2 = encryptBody(aes128, fromHex(c.key), m1.nextIv, fromHex(c.plaintext).subarray(16))
  assert.equal(toHex(m1.ciphertext) + toHex(m2.ciphertext), c.ciphertext)
})

test('RFC 2409 App. B IVs: phase 1 = hash(g^xi | g^xr), phase 2 = hash(last phase-1 block | M-ID), truncated to the block', () => {
  const gxi = fromHex('01'.repeat(128)), gxr = fromHex('02'.repeat(128))
  const want1 = createHash('sha1').update(Buffer.concat([Buffer.from(gxi), Buffer.from(gxr)])).digest('hex').slice(0, 32)
  assert.equal(toHex(phase1Iv(sha1, aes128, gxi, gxr)), want1)
  const tdes = ikeCipher(OakleyEncryption.TripleDesCbc, undefined)!
  assert.equal(toHex(phase1Iv(sha1, tdes, gxi, gxr)), want1.slice(0, 16))
  const last = fromHex('a5'.repeat(16))
  const want2 = createHash('sha1').update(Buffer.from('a5'.repeat(16) + 'cafebabe', 'hex')).digest('hex').slice(0, 32)
  assert.equal(toHex(phase2Iv(sha1, aes128, last, 0xcafebabe)), want2)
})

test('RFC 2409 App. B padding: zeros to the block size; the decrypted body walks with the padding ignored', () => {
  const key = fromHex('00'.repeat(24)), iv = fromHex('11'.repeat(8))
  const tdes = ikeCipher(OakleyEncryption.TripleDesCbc, undefined)!
  const body = encodePayloadChain([{ payload: 'hash', data: fromHex('0102030405') }]) // 9 bytes
  const { ciphertext } = encryptBody(tdes, key, iv, body)
  assert.equal(ciphertext.length, 16)
  const { plaintext } = decryptBody(tdes, key, iv, ciphertext)
  assert.deepEqual(plaintext.subarray(9), new Uint8Array(7))
  const chain = decodePayloadChain(8, plaintext, 0, plaintext.length, true)
  assert.deepEqual(chain.payloads, [{ payload: 'hash', data: fromHex('0102030405') }])
  // "receivers accept any padding": random-looking padding bytes are ignored too.
  const odd = new Uint8Array(16); odd.set(body); odd.fill(0x7e, 9)
  assert.equal(decodePayloadChain(8, odd, 0, 16, true).payloads.length, 1)
})

test('decryptBody: an empty or non-block-multiple body is a DecodeError', () => {
  const key = fromHex('00'.repeat(16)), iv = fromHex('00'.repeat(16))
  assert.throws(() => decryptBody(aes128, key, iv, new Uint8Array(0)), DecodeError)
  assert.throws(() => decryptBody(aes128, key, iv, new Uint8Array(17)), DecodeError)
})

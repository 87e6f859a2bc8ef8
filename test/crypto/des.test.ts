// DES against FIPS 81 / NIST SP 800-17 known answers, decryption round trip, and the MS-CHAP
// 7-byte key expansion (RFC 2759 §8.6).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { desDecryptBlock, desEncrypt56, desEncryptBlock, expandDesKey56 } from '../../src/crypto/legacy/des.js'
import { fromHex, toHex } from '../../src/lib/bytes.js'
import { loadVectors } from './load-vectors.js'

const v = loadVectors<{ vectors: { table: string; key: string; plaintext: string; ciphertext: string }[] }>('crypto', 'des')

test(`DES encrypts and decrypts: ${v.source}`, () => {
  for (const t of v.vectors) {
    assert.equal(toHex(desEncryptBlock(fromHex(t.key), fromHex(t.plaintext))), t.ciphertext, `${t.table} ${t.key}`)
    assert.equal(toHex(desDecryptBlock(fromHex(t.key), fromHex(t.ciphertext))), t.plaintext, `${t.table} ${t.key}`)
  }
})

test('DES ignores key parity bits (FIPS 46-3: bits 8, 16, ..., 64 are not used)', () => {
  const k = fromHex('0123456789abcdef')
  const flipped = k.map((b) => b ^ 1)
  const p = fromHex('4e6f772069732074')
  assert.deepEqual(desEncryptBlock(flipped, p), desEncryptBlock(k, p))
})

test('DES decrypt inverts encrypt for random keys and blocks', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.uint8Array({ minLength: 8, maxLength: 8 }), (k, p) => {
    assert.deepEqual(desDecryptBlock(k, desEncryptBlock(k, p)), p)
  }), { numRuns: 200 })
})

test('expandDesKey56 spreads 56 bits over 8 bytes with odd parity', () => {
  assert.equal(toHex(expandDesKey56(fromHex('ffffffffffffff'))), 'fefefefefefefefe')
  assert.equal(toHex(expandDesKey56(fromHex('00000000000000'))), '0101010101010101')
  // 7 bytes of 1000 0001 patterns: bit string 10000001 10000001 ... regrouped by seven.
  fc.assert(fc.property(fc.uint8Array({ minLength: 7, maxLength: 7 }), (k7) => {
    const k8 = expandDesKey56(k7)
    let bits = ''
    for (const b of k8) {
      let ones = 0
      for (let t = b; t; t >>= 1) ones += t & 1
      assert.equal(ones % 2, 1, 'odd parity')
      bits += (b >>> 1).toString(2).padStart(7, '0')
    }
    assert.equal(bits, [...k7].map((b) => b.toString(2).padStart(8, '0')).join(''))
  }))
})

test('desEncrypt56 is DES under the expanded key, and rejects wrong lengths', () => {
  const k7 = fromHex('0123456789abcd')
  const p = fromHex('0011223344556677')
  assert.deepEqual(desEncrypt56(p, k7), desEncryptBlock(expandDesKey56(k7), p))
  assert.throws(() => desEncrypt56(p, new Uint8Array(8)), RangeError)
  assert.throws(() => desEncryptBlock(new Uint8Array(7), p), RangeError)
  assert.throws(() => desEncryptBlock(new Uint8Array(8), new Uint8Array(9)), RangeError)
})

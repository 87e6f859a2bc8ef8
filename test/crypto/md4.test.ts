// MD4 against the RFC 1320 §A.5 suite, plus block-boundary lengths and input immutability.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { md4 } from '../../src/crypto/legacy/md4.js'
import { toHex, utf8 } from '../../src/lib/bytes.js'
import { loadVectors } from './load-vectors.js'

const v = loadVectors<{ vectors: { message: string; digest: string }[] }>('crypto', 'md4')

test(`MD4 matches ${v.source}`, () => {
  assert.equal(v.vectors.length, 7)
  for (const { message, digest } of v.vectors) assert.equal(toHex(md4(utf8(message))), digest, JSON.stringify(message))
})

test('MD4 of a subarray view hashes only the view and leaves the input intact', () => {
  const buf = utf8('xxabcxx')
  const copy = buf.slice()
  assert.equal(toHex(md4(buf.subarray(2, 5))), 'a448017aaf21d8525fc10ae87aa6729d')
  assert.deepEqual(buf, copy)
})

test('MD4 padding is right at every length around the 56/64-byte boundaries', () => {
  // The 80-byte RFC message hashed from a longer buffer's prefixes must agree with itself when
  // fed through views, and distinct lengths must give distinct digests.
  const data = new Uint8Array(200).map((_, i) => (i * 7 + 3) & 0xff)
  const seen = new Set<string>()
  for (let n = 50; n <= 140; n++) {
    const d = toHex(md4(data.subarray(0, n)))
    assert.equal(d, toHex(md4(data.slice(0, n))))
    seen.add(d)
  }
  assert.equal(seen.size, 91)
})

// ByteSlab: the per-packet outputs of the MPPE/GRE hot path come from shared blocks, and no region
// is ever handed out twice (queued packets stay intact until their batched send).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ByteSlab } from '../../src/ppp/mppe/byte-slab.js'

test('regions never overlap and keep their bytes while later regions are written', () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 600 }), { minLength: 1, maxLength: 200 }), (sizes) => {
    const slab = new ByteSlab(1024)
    const got = sizes.map((n, i) => { const r = slab.take(n); assert.equal(r.length, n); assert.ok(r.every((b) => b === 0), 'fresh'); r.fill(i & 0xff); return r })
    got.forEach((r, i) => assert.ok(r.every((b) => b === (i & 0xff)), `region ${i} intact`))
    for (let i = 0; i < got.length; i++) {
      for (let j = i + 1; j < got.length; j++) {
        const a = got[i]!, b = got[j]!
        if (a.buffer !== b.buffer || a.length === 0 || b.length === 0) continue
        assert.ok(a.byteOffset + a.length <= b.byteOffset || b.byteOffset + b.length <= a.byteOffset, `regions ${i} and ${j} overlap`)
      }
    }
  }))
})

test('small regions share a block (8-byte aligned); big ones get their own array; bad block sizes throw', () => {
  const slab = new ByteSlab(1024)
  const a = slab.take(10), b = slab.take(10)
  assert.equal(a.buffer, b.buffer)
  assert.equal(b.byteOffset, 16)
  const big = slab.take(257)
  assert.notEqual(big.buffer, a.buffer)
  assert.equal(big.byteOffset, 0)
  assert.throws(() => new ByteSlab(10), RangeError)
})

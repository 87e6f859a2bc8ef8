// RC4 keystream against RFC 6229 §2, streaming across calls, in-place operation and rekeying.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Rc4, rc4 } from '../../src/crypto/legacy/rc4.js'
import { fromHex, toHex } from '../../src/lib/bytes.js'
import { loadVectors } from './load-vectors.js'

const v = loadVectors<{ vectors: { key: string; rows: { offset: number; keystream: string }[] }[] }>('crypto', 'rc4')

test(`RC4 keystream matches ${v.source}`, () => {
  for (const { key, rows } of v.vectors) {
    const stream = rc4(fromHex(key), new Uint8Array(4112))
    for (const r of rows) assert.equal(toHex(stream.subarray(r.offset, r.offset + 16)), r.keystream, `key ${key} offset ${r.offset}`)
    // The same rows through skip() + process() on one stateful instance.
    const c = new Rc4(fromHex(key))
    let pos = 0
    for (const r of rows) {
      c.skip(r.offset - pos)
      assert.equal(toHex(c.process(new Uint8Array(16))), r.keystream)
      pos = r.offset + 16
    }
  }
})

test('RC4 state carries across process() calls (chunking does not matter)', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), fc.nat(300), (key, data, cut) => {
    const whole = rc4(key, data)
    const c = new Rc4(key)
    const at = Math.min(cut, data.length)
    const a = c.process(data.subarray(0, at))
    const b = c.process(data.subarray(at))
    assert.deepEqual(new Uint8Array([...a, ...b]), whole)
  }))
})

test('RC4 works in place and into a larger output buffer', () => {
  const key = fromHex('0102030405')
  const buf = new Uint8Array(32)
  const out = new Rc4(key).process(buf, buf)
  assert.equal(out, buf)
  assert.equal(toHex(buf.subarray(0, 16)), 'b2396305f03dc027ccc3524a0a1118a8')
  const big = new Uint8Array(40)
  const view = new Rc4(key).process(new Uint8Array(16), big)
  assert.equal(view.length, 16)
  assert.equal(toHex(big.subarray(0, 16)), 'b2396305f03dc027ccc3524a0a1118a8')
  assert.throws(() => new Rc4(key).process(new Uint8Array(8), new Uint8Array(4)), RangeError)
})

test('RC4 rekey restarts the keystream; decryption inverts encryption; bad keys throw', () => {
  const key = fromHex('641910833222772a')
  const c = new Rc4(key)
  c.skip(100)
  c.rekey(key)
  assert.equal(toHex(c.process(new Uint8Array(16))), 'bbf609de9413172d07660cb680716926')
  const msg = new TextEncoder().encode('attack at dawn')
  assert.deepEqual(rc4(key, rc4(key, msg)), msg)
  assert.throws(() => new Rc4(new Uint8Array(0)), RangeError)
  assert.throws(() => new Rc4(new Uint8Array(257)), RangeError)
})

// The allocation-free forms used by the MPPE hot path: sha1Of against sha1 (FIPS 180-4 through
// node:crypto), Rc4.processByte against process(), and RC4 output shifted towards the start of its input.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { sha1, sha1Of } from '../../src/crypto/hash.js'
import { Rc4, rc4 } from '../../src/crypto/legacy/rc4.js'
import { fromHex, toHex, utf8 } from '../../src/lib/bytes.js'

test('sha1Of: FIPS 180-2 "abc" and the same digest as sha1 for any input (fresh array each call)', () => {
  assert.equal(toHex(sha1Of(utf8('abc'))), 'a9993e364706816aba3e25717850c26c9cd0d89d')
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(20), (data, cut) => {
    const view = data.subarray(Math.min(cut, data.length))
    assert.deepEqual(sha1Of(view), sha1(view))
  }))
  const a = sha1Of(utf8('x'))
  const b = sha1Of(utf8('y'))
  assert.notDeepEqual(a, b, 'the first digest is not overwritten by the second')
})

test('Rc4.processByte is one step of process(), mixable with it', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 32 }), fc.uint8Array({ minLength: 1, maxLength: 100 }), (key, data) => {
    const whole = rc4(key, data)
    const c = new Rc4(key)
    const out = new Uint8Array(data.length)
    out[0] = c.processByte(data[0]!)
    c.process(data.subarray(1), out.subarray(1))
    assert.deepEqual(out, whole)
  }))
})

test('RC4 output may start before its input in the same buffer (shift by 1 and 2, as the MPPE receiver does)', () => {
  const key = fromHex('0102030405')
  const msg = Uint8Array.from({ length: 40 }, (_, i) => i * 3)
  const expect = rc4(key, msg)
  for (const shift of [1, 2]) {
    const buf = new Uint8Array(shift + msg.length)
    buf.set(msg, shift)
    new Rc4(key).process(buf.subarray(shift), buf)
    assert.deepEqual(buf.subarray(0, msg.length), expect, `shift ${shift}`)
  }
})

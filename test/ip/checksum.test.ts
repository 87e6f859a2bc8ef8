// Internet checksum (RFC 1071) and incremental update (RFC 1624) — examples and properties.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  internetChecksum, onesComplementSum, pseudoHeaderSum, updateChecksum16, updateChecksum32, verifyInternetChecksum,
} from '../../src/ip/checksum.js'
import { fromHex } from '../../src/lib/bytes.js'

/** Independent reference: the RFC 1071 §4.1 C loop, literally (32-bit accumulator, fold at the end). */
function reference(data: Uint8Array): number {
  let sum = 0
  let i = 0
  for (; i + 1 < data.length; i += 2) sum += data[i]! * 256 + data[i + 1]!
  if (i < data.length) sum += data[i]! * 256
  while (sum >= 0x10000) sum = (sum % 0x10000) + Math.floor(sum / 0x10000)
  return 0xffff - sum
}

test('RFC 1071 §3 numerical example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2', () => {
  const d = fromHex('0001f203f4f5f6f7')
  assert.equal(onesComplementSum(d), 0xddf2)
  assert.equal(internetChecksum(d), 0x220d)
  // Odd length: the last byte is padded with zero.
  assert.equal(onesComplementSum(fromHex('0001f203f4f5f6')), onesComplementSum(fromHex('0001f203f4f5f600')))
})

test('checksum equals the RFC 1071 reference loop and verifies once stored', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 2, maxLength: 200 }), (data) => {
    assert.equal(internetChecksum(data), reference(data))
    const even = new Uint8Array(data.length + (data.length & 1) + 2)
    even.set(data)
    const c = internetChecksum(even)
    even[even.length - 2] = c >>> 8; even[even.length - 1] = c & 0xff
    assert.equal(verifyInternetChecksum(even), true)
  }))
})

test('a partial sum over a prefix continues into the rest (even split points)', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(60), (data, half) => {
    const at = Math.min(half * 2, data.length - (data.length & 1))
    assert.equal(internetChecksum(data, at, data.length, onesComplementSum(data, 0, at)), internetChecksum(data))
  }))
})

test('RFC 1624 incremental update equals a full recompute (16- and 32-bit fields)', () => {
  // Data whose first word is non-zero never sums to zero, the one case where RFC 1624 eqn. 3
  // and a recompute differ only in the representation of zero.
  const packet = fc.uint8Array({ minLength: 4, maxLength: 64 }).filter((d) => d.length % 2 === 0).map((d) => { d[0] = d[0]! | 0x40; return d })
  fc.assert(fc.property(packet, fc.nat(), fc.integer({ min: 0, max: 0xffff }), (data, pos, word) => {
    const at = 2 + 2 * (pos % ((data.length - 2) / 2))
    const before = internetChecksum(data)
    const old = (data[at]! << 8) | data[at + 1]!
    data[at] = word >>> 8; data[at + 1] = word & 0xff
    assert.equal(updateChecksum16(before, old, word), internetChecksum(data))
  }))
  fc.assert(fc.property(packet.filter((d) => d.length >= 6), fc.nat(), fc.integer({ min: 0, max: 0xffffffff }), (data, pos, v) => {
    const at = 2 + 2 * (pos % ((data.length - 4) / 2))
    const before = internetChecksum(data)
    const old = ((data[at]! << 24) >>> 0) + ((data[at + 1]! << 16) | (data[at + 2]! << 8) | data[at + 3]!)
    data[at] = v >>> 24; data[at + 1] = (v >>> 16) & 0xff; data[at + 2] = (v >>> 8) & 0xff; data[at + 3] = v & 0xff
    assert.equal(updateChecksum32(before, old, v), internetChecksum(data))
  }))
})

test('RFC 1624 §4 example: eqn. 3 never gives the -0 (0xFFFF vs 0x0000) error of eqn. 2', () => {
  // HC = 0xDD2F, a field changes from 0x5555 to 0x3285: eqn. 3 gives 0x0000 (eqn. 2 would give 0xFFFF).
  assert.equal(updateChecksum16(0xdd2f, 0x5555, 0x3285), 0x0000)
})

test('pseudo-header sum folds src, dst, protocol and length', () => {
  const sum = pseudoHeaderSum(0xc0a80001, 0xc0a800c7, 6, 40)
  assert.equal(sum, onesComplementSum(fromHex('c0a80001c0a800c70006' + '0028')))
})

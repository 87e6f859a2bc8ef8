// IKEv1 fragmentation: split then reassemble in any order gives the original datagram; duplicates, numbers
// out of range, fragments past LAST and oversize sets are dropped with a reason; a new ID restarts.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { HeaderFlag, PayloadType } from '../../src/ike/v1/constants.js'
import { decodeMessage } from '../../src/ike/v1/message/message.js'
import { FragmentReassembler, MAX_REASSEMBLED_BYTES, splitIntoFragments } from '../../src/ike/v1/fragments.js'

const header = { initiatorCookie: new Uint8Array(8).fill(1), responderCookie: new Uint8Array(8).fill(2), version: 0x10, exchangeType: 2, flags: HeaderFlag.Encryption, messageId: 0 }
const frag = (fragmentId: number, number: number, flags: number, data: Uint8Array) => ({ fragmentId, number, flags, data })

test('split: every fragment is a plaintext message with one type-132 payload, numbered from 1, LAST on the end', () => {
  const datagram = new Uint8Array(1000).map((_, i) => i & 0xff)
  const parts = splitIntoFragments(datagram, header, 7, 400)
  assert.equal(parts.length, 3)
  parts.forEach((b, i) => {
    const m = decodeMessage(b)
    assert.equal(m.header.nextPayload, PayloadType.IkeFragment)
    assert.equal(m.header.flags & HeaderFlag.Encryption, 0)
    const p = m.payloads[0]!
    assert.ok(p.payload === 'fragment')
    assert.deepEqual([p.fragmentId, p.number, p.flags, p.data.length], [7, i + 1, i === 2 ? 1 : 0, i === 2 ? 200 : 400])
  })
  assert.throws(() => splitIntoFragments(datagram, header, 1, 50), RangeError)
})

test('property: reassembly in any order (with duplicates) gives back the datagram', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 3000 }), fc.integer({ min: 200, max: 1200 }), fc.integer({ min: 0, max: 1000 }), (datagram, maxData, seed) => {
    const parts = splitIntoFragments(datagram, header, 3, maxData).map((b) => decodeMessage(b).payloads[0]!)
    const order = parts.map((_, i) => i).sort((a, b) => ((a * 7919 + seed) % 13) - ((b * 7919 + seed) % 13))
    const r = new FragmentReassembler()
    let done: Uint8Array | undefined
    for (const i of [...order, order[0]!]) {
      const p = parts[i]!
      if (p.payload !== 'fragment') throw new Error('not a fragment')
      const res = r.add(p)
      if (res.status === 'complete') done = res.datagram
    }
    assert.deepEqual(done, datagram)
  }), { numRuns: 200 })
})

test('drops: number 0 or 17, duplicate, beyond LAST, oversize; a new fragment ID restarts', () => {
  const r = new FragmentReassembler()
  const d = new Uint8Array(10)
  assert.deepEqual(r.add(frag(1, 0, 0, d)), { status: 'dropped', reason: 'number' })
  assert.deepEqual(r.add(frag(1, 17, 0, d)), { status: 'dropped', reason: 'number' })
  assert.deepEqual(r.add(frag(1, 1, 0, d)), { status: 'incomplete' })
  assert.deepEqual(r.add(frag(1, 1, 0, d)), { status: 'dropped', reason: 'duplicate' })
  assert.deepEqual(r.add(frag(1, 3, 0, d)), { status: 'incomplete' })
  assert.deepEqual(r.add(frag(1, 2, 1, d)), { status: 'dropped', reason: 'after-last' }) // LAST=2 but 3 is held
  // A new ID forgets ID 1.
  assert.deepEqual(r.add(frag(2, 2, 1, Uint8Array.of(2))), { status: 'incomplete' })
  assert.deepEqual(r.add(frag(2, 3, 0, d)), { status: 'dropped', reason: 'after-last' })
  const done = r.add(frag(2, 1, 0, Uint8Array.of(1)))
  assert.deepEqual(done, { status: 'complete', datagram: Uint8Array.of(1, 2) })
  const big = new FragmentReassembler()
  assert.equal(big.add(frag(5, 1, 0, new Uint8Array(MAX_REASSEMBLED_BYTES))).status, 'incomplete')
  assert.deepEqual(big.add(frag(5, 2, 1, new Uint8Array(1))), { status: 'dropped', reason: 'too-large' })
})

// Anti-replay window, RFC 4303 §3.4.3 / Appendix A2: unit cases at the edges and a model check
// against a plain set of seen numbers.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ReplayVerdict, ReplayWindow } from '../../src/esp/replay-window.js'

test('sizes: default 64 (§3.4.3 SHOULD), minimum 32 (MUST), multiples of 32 up to 4096; others refused', () => {
  assert.equal(new ReplayWindow().size, 64)
  for (const n of [32, 96, 1024, 4096]) assert.equal(new ReplayWindow(n).size, n)
  for (const n of [0, 16, 31, 33, 100, 4128, 1.5]) assert.throws(() => new ReplayWindow(n), RangeError)
})

test('0 is never valid; first packets; duplicates; right of the window always ok', () => {
  const w = new ReplayWindow(64)
  assert.equal(w.check(0), ReplayVerdict.zero)
  assert.equal(w.check(1), ReplayVerdict.ok)
  w.accept(1)
  assert.equal(w.check(1), ReplayVerdict.duplicate)
  assert.equal(w.check(2), ReplayVerdict.ok)
  assert.equal(w.check(1_000_000), ReplayVerdict.ok)
  assert.equal(w.highest, 1)
})

test('check() never changes state: only accept() does (the ICV gate of §3.4.3)', () => {
  const w = new ReplayWindow(64)
  for (let i = 0; i < 5; i++) assert.equal(w.check(7), ReplayVerdict.ok)
  assert.equal(w.highest, 0)
  w.accept(7)
  assert.equal(w.check(7), ReplayVerdict.duplicate)
})

test('window edge: top - seq = size-1 is inside, = size is too old', () => {
  const w = new ReplayWindow(64)
  w.accept(200)
  assert.equal(w.check(200 - 63), ReplayVerdict.ok)
  assert.equal(w.check(200 - 64), ReplayVerdict.tooOld)
  w.accept(137)
  assert.equal(w.check(137), ReplayVerdict.duplicate)
  // Slide by exactly one: 137 drops out.
  w.accept(201)
  assert.equal(w.check(137), ReplayVerdict.tooOld)
  assert.equal(w.check(138), ReplayVerdict.ok)
})

test('reordered packets within the window are accepted once each', () => {
  const w = new ReplayWindow(32)
  for (const s of [5, 3, 4, 1, 2, 10, 8, 9, 6, 7]) { assert.equal(w.check(s), ReplayVerdict.ok, `seq ${s}`); w.accept(s) }
  for (let s = 1; s <= 10; s++) assert.equal(w.check(s), ReplayVerdict.duplicate)
})

test('a big jump clears stale bits (ring words reused after wrap)', () => {
  const w = new ReplayWindow(64)
  for (let s = 1; s <= 64; s++) w.accept(s)
  w.accept(64 + 96 + 5) // jump past the whole ring
  for (let s = 64 + 96 + 5 - 63; s < 64 + 96 + 5; s++) assert.equal(w.check(s), ReplayVerdict.ok, `seq ${s}`)
})

test('highest sequence numbers near 2^32 - 1 work', () => {
  const w = new ReplayWindow(64)
  w.accept(0xfffffff0)
  w.accept(0xffffffff)
  assert.equal(w.check(0xffffffff), ReplayVerdict.duplicate)
  assert.equal(w.check(0xfffffff0), ReplayVerdict.duplicate)
  assert.equal(w.check(0xfffffff1), ReplayVerdict.ok)
  assert.equal(w.check(0xffffffff - 64), ReplayVerdict.tooOld)
})

test('model: equals a set of seen numbers with "too old" = top - seq >= size', () => {
  fc.assert(fc.property(fc.constantFrom(32, 64, 128, 1024), fc.array(fc.integer({ min: 1, max: 3000 }), { maxLength: 400 }), (size, seqs) => {
    const w = new ReplayWindow(size)
    const seen = new Set<number>()
    let top = 0
    for (const s of seqs) {
      const want = s > top ? 'ok' : top - s >= size ? 'too-old' : seen.has(s) ? 'duplicate' : 'ok'
      const got = w.check(s)
      if (got !== want) return false
      if (got === 'ok') { w.accept(s); seen.add(s); if (s > top) top = s }
    }
    return w.highest === top
  }))
})

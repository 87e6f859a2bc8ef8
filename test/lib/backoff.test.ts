// Backoff (src/lib/backoff.ts): capped doubling, jitter bounds with fixed randomness, reset after
// a link stayed up long enough (boundary cells), configuration refusals, a bounds property.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Backoff, backoffDelay, DEFAULT_BACKOFF } from '../../src/lib/backoff.js'
import type { Rng } from '../../src/crypto/rng.js'
import { VpnError } from '../../src/lib/errors.js'
import { fixedRng } from '../helpers/clock.js'

/** An Rng whose every byte is `b`: 0x00 gives u = 0 (no jitter taken), 0xff gives u just below 1. */
const constRng = (b: number): Rng => ({ bytes: (n) => new Uint8Array(n).fill(b) })

test('without jitter: 1, 2, 4 ... 32 s, then capped at 60 s', () => {
  const b = new Backoff(fixedRng(), { jitter: 0 })
  const delays = Array.from({ length: 9 }, (_, i) => b.failed(i))
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000])
  assert.equal(b.attempts, 9)
})

test('the defaults are 1 s doubling to 60 s with equal jitter and a 30 s reset', () => {
  assert.deepEqual({ ...DEFAULT_BACKOFF }, { initialMs: 1000, maxMs: 60000, factor: 2, jitter: 0.5, resetAfterMs: 30000 })
})

test('jitter takes a fraction of the delay: u = 0 keeps the base, u -> 1 takes off (almost) half', () => {
  const none = new Backoff(constRng(0x00))
  assert.deepEqual([none.failed(0), none.failed(0), none.failed(0)], [1000, 2000, 4000])
  const most = new Backoff(constRng(0xff))
  // u = 0xffffffff / 2^32: base * (1 - 0.5 u) rounds to base/2.
  assert.deepEqual([most.failed(0), most.failed(0), most.failed(0)], [500, 1000, 2000])
  const quarter = new Backoff(constRng(0x00), { jitter: 0.25, initialMs: 4000 })
  assert.equal(quarter.failed(0), 4000)
})

test('with a seeded Rng the delays are reproducible, within [base/2, base], and differ between seeds', () => {
  const seq = (seed: number): number[] => { const b = new Backoff(fixedRng(seed)); return Array.from({ length: 10 }, () => b.failed(0)) }
  const a = seq(1), again = seq(1), other = seq(2)
  assert.deepEqual(a, again)
  assert.notDeepEqual(a, other)
  a.forEach((d, i) => {
    const base = Math.min(60000, 1000 * 2 ** i)
    assert.ok(d >= base / 2 && d <= base, `delay ${i} = ${d} outside [${base / 2}, ${base}]`)
  })
})

test('reset cells: up for exactly resetAfterMs resets; one ms less keeps growing; no up keeps growing', () => {
  const mk = (): Backoff => { const b = new Backoff(constRng(0), { resetAfterMs: 30000 }); b.failed(0); b.failed(0); b.failed(0); return b }
  const healthy = mk()
  healthy.up(100_000)
  assert.equal(healthy.failed(130_000), 1000)
  assert.equal(healthy.attempts, 1)
  const flapping = mk()
  flapping.up(100_000)
  assert.equal(flapping.failed(129_999), 8000)
  const never = mk()
  assert.equal(never.failed(1_000_000), 8000, 'time alone does not reset; only a link that stayed up')
})

test('an up is consumed by the next failure: a later failure without a new up keeps growing', () => {
  const b = new Backoff(constRng(0))
  b.failed(0); b.failed(0)
  b.up(10_000)
  assert.equal(b.failed(50_000), 1000, 'was up for 40 s')
  assert.equal(b.failed(500_000), 2000, 'the dial after it failed: no link came up in between')
})

test('reset() forgets the history', () => {
  const b = new Backoff(constRng(0))
  b.failed(0); b.failed(0); b.failed(0)
  b.reset()
  assert.equal(b.attempts, 0)
  assert.equal(b.failed(0), 1000)
})

test('bad configurations are refused with ERR_BACKOFF_CONFIG', () => {
  for (const o of [{ initialMs: 0 }, { initialMs: -1 }, { maxMs: 500 }, { factor: 0.5 }, { jitter: -0.1 }, { jitter: 1.5 }, { resetAfterMs: -1 }, { initialMs: Number.NaN }]) {
    assert.throws(() => new Backoff(fixedRng(), o), (e: unknown) => e instanceof VpnError && e.code === 'ERR_BACKOFF_CONFIG', JSON.stringify(o))
  }
})

test('property: every delay is an integer in [1, maxMs] for any options and event sequence', () => {
  const opts = fc.record({
    initialMs: fc.integer({ min: 1, max: 10_000 }),
    extra: fc.integer({ min: 0, max: 100_000 }),
    factor: fc.double({ min: 1, max: 10, noNaN: true }),
    jitter: fc.double({ min: 0, max: 1, noNaN: true }),
    resetAfterMs: fc.integer({ min: 0, max: 100_000 }),
  })
  const events = fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 200_000 })), { maxLength: 200 })
  fc.assert(fc.property(opts, events, fc.integer(), (o, evs, seed) => {
    const b = new Backoff(fixedRng(seed), { initialMs: o.initialMs, maxMs: o.initialMs + o.extra, factor: o.factor, jitter: o.jitter, resetAfterMs: o.resetAfterMs })
    let now = 0
    for (const [isUp, dt] of evs) {
      now += dt
      if (isUp) b.up(now)
      else {
        const d = b.failed(now)
        assert.ok(Number.isInteger(d) && d >= 1 && d <= o.initialMs + o.extra, `delay ${d}`)
      }
    }
  }), { numRuns: 300 })
})

test('backoffDelay (stateless, the caller counts failures) follows the same curve as Backoff', () => {
  assert.deepEqual([0, 1, 2, 3, 7, 8, 100].map((f) => backoffDelay(f, constRng(0))), [1000, 1000, 2000, 4000, 60000, 60000, 60000])
  assert.equal(backoffDelay(3, constRng(0xff)), 2000, 'jitter takes up to half')
  const a = new Backoff(fixedRng(9)), r = fixedRng(9)
  for (let f = 1; f <= 12; f++) assert.equal(backoffDelay(f, r), a.failed(0), `failure ${f}`)
  assert.throws(() => backoffDelay(1, constRng(0), { maxMs: 10 }), (e: unknown) => e instanceof VpnError && e.code === 'ERR_BACKOFF_CONFIG')
})

// AddressPool: exclusions, exhaustion, preferred addresses, and a model-based property test that
// the pool never hands out an address twice.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { AddressPool } from '../../src/ip/pool.js'
import { VpnError } from '../../src/lib/errors.js'

function drain(pool: AddressPool): string[] {
  const out: string[] = []
  for (let a = pool.allocate(); a !== undefined; a = pool.allocate()) out.push(a)
  return out
}

test('a /29 hands out its six hosts, never network or broadcast, then nothing', () => {
  const pool = new AddressPool('198.19.0.0/29')
  assert.equal(pool.size(), 6)
  const got = drain(pool)
  assert.deepEqual([...got].sort(), ['198.19.0.1', '198.19.0.2', '198.19.0.3', '198.19.0.4', '198.19.0.5', '198.19.0.6'])
  assert.equal(pool.inUse(), 6)
  assert.equal(pool.allocate(), undefined)
  pool.release('198.19.0.3')
  assert.equal(pool.inUse(), 5)
  assert.equal(pool.allocate(), '198.19.0.3')
})

test('exclusions (addresses and prefixes) are never handed out and do not count in size()', () => {
  const pool = new AddressPool('198.19.1.0/24', { exclude: ['198.19.1.1', '198.19.1.128/28', '10.0.0.0/8', '198.19.0.0/32'] })
  assert.equal(pool.size(), 254 - 1 - 16)
  const got = new Set(drain(pool))
  assert.equal(got.size, pool.size())
  assert.equal(got.has('198.19.1.1'), false)
  for (let i = 128; i < 144; i++) assert.equal(got.has(`198.19.1.${i}`), false)
  assert.equal(got.has('198.19.1.0'), false)
  assert.equal(got.has('198.19.1.255'), false)
  // Releasing an excluded or foreign address changes nothing.
  pool.release('198.19.1.1'); pool.release('10.1.1.1'); pool.release('garbage')
  assert.equal(pool.inUse(), pool.size())
  assert.equal(pool.allocate(), undefined)
})

test('preferred and claimed addresses', () => {
  const pool = new AddressPool('198.19.2.0/24', { exclude: ['198.19.2.1'] })
  assert.equal(pool.allocate('198.19.2.50'), '198.19.2.50')
  assert.equal(pool.isAllocated('198.19.2.50'), true)
  // Taken, excluded, network, broadcast or outside: fall back to another free address.
  for (const pref of ['198.19.2.50', '198.19.2.1', '198.19.2.0', '198.19.2.255', '10.0.0.1', 'nonsense']) {
    const a = pool.allocate(pref)
    assert.ok(a !== undefined && a !== pref, pref)
  }
  assert.equal(pool.claim('198.19.2.77'), true)
  assert.equal(pool.claim('198.19.2.77'), false)
  assert.equal(pool.claim('198.19.2.255'), false)
  assert.equal(pool.claim('198.19.2.1'), false)
  assert.equal(pool.inUse(), 8)
})

test('/31 and /32 pools have no network or broadcast address (RFC 3021)', () => {
  assert.deepEqual(drain(new AddressPool('198.19.3.0/31')).sort(), ['198.19.3.0', '198.19.3.1'])
  assert.deepEqual(drain(new AddressPool('198.19.3.9/32')), ['198.19.3.9'])
  assert.equal(new AddressPool('198.19.3.0/30').size(), 2)
})

test('bad configuration throws VpnError', () => {
  assert.throws(() => new AddressPool('198.19.0.0/7'), (e: unknown) => e instanceof VpnError && e.code === 'ERR_POOL_TOO_LARGE')
  assert.throws(() => new AddressPool('198.19.0.0/33'), (e: unknown) => e instanceof VpnError && e.code === 'ERR_BAD_PREFIX')
  assert.throws(() => new AddressPool('198.19.0.0/24', { exclude: ['x'] }), (e: unknown) => e instanceof VpnError)
})

test('a large pool allocates quickly and wraps around after releases', () => {
  const pool = new AddressPool('198.18.0.0/16')
  assert.equal(pool.size(), 65534)
  const all = drain(pool)
  assert.equal(all.length, 65534)
  assert.equal(new Set(all).size, 65534)
  pool.release('198.18.0.7')
  pool.release('198.18.200.1')
  assert.deepEqual([pool.allocate(), pool.allocate(), pool.allocate()].sort(), ['198.18.0.7', '198.18.200.1', undefined].sort())
})

test('property: never double-allocates, inUse tracks a model, only allocatable addresses appear', () => {
  const op = fc.oneof(
    fc.record({ k: fc.constant('alloc' as const), pref: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }) }),
    fc.record({ k: fc.constant('release' as const), i: fc.nat(60) }),
    fc.record({ k: fc.constant('claim' as const), i: fc.integer({ min: 0, max: 40 }) }),
  )
  fc.assert(fc.property(fc.integer({ min: 26, max: 32 }), fc.array(op, { maxLength: 200 }), (len, ops) => {
    const pool = new AddressPool(`198.19.9.0/${len}`, { exclude: ['198.19.9.5', '198.19.9.16/30'] })
    const span = 2 ** (32 - len)
    const allocatable = (i: number): boolean => i < span && !(len <= 30 && (i === 0 || i === span - 1)) && i !== 5 && !(i >= 16 && i < 20)
    const model = new Set<string>()
    const handed: string[] = []
    for (const o of ops) {
      if (o.k === 'alloc') {
        const a = pool.allocate(o.pref === undefined ? undefined : `198.19.9.${o.pref}`)
        if (a === undefined) {
          assert.equal(model.size, pool.size())
        } else {
          assert.equal(model.has(a), false, `double allocation of ${a}`)
          const i = Number(a.split('.')[3])
          assert.ok(a.startsWith('198.19.9.') && allocatable(i), a)
          if (o.pref !== undefined && allocatable(o.pref) && !model.has(`198.19.9.${o.pref}`)) assert.equal(a, `198.19.9.${o.pref}`)
          model.add(a)
          handed.push(a)
        }
      } else if (o.k === 'release') {
        const a = handed.length > 0 && o.i % 2 === 0 ? handed[o.i % handed.length]! : `198.19.9.${o.i}`
        pool.release(a)
        model.delete(a)
      } else {
        const a = `198.19.9.${o.i}`
        const ok = pool.claim(a)
        assert.equal(ok, allocatable(o.i) && !model.has(a))
        if (ok) { model.add(a); handed.push(a) }
      }
      assert.equal(pool.inUse(), model.size)
    }
  }), { numRuns: 300 })
})

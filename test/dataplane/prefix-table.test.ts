// PrefixTable (src/dataplane/prefix-table.ts): longest-prefix match cells (RFC 4632 §5.1),
// removal, overlap queries, and a property test against a brute-force linear scan.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { PrefixTable } from '../../src/dataplane/prefix-table.js'
import { ip } from './packets.js'

function table(...prefixes: string[]): PrefixTable<string> {
  const t = new PrefixTable<string>()
  for (const p of prefixes) {
    const [a, l] = p.split('/')
    t.set(ip(a!), Number(l), p)
  }
  return t
}

test('empty table: every lookup misses', () => {
  const t = new PrefixTable<string>()
  for (const a of ['0.0.0.0', '10.2.0.1', '255.255.255.255']) assert.equal(t.lookup(ip(a)), undefined)
  assert.equal(t.size, 0)
})

test('one /24: first, last and inner addresses hit; the neighbours on both sides miss', () => {
  const t = table('10.2.0.0/24')
  assert.equal(t.lookup(ip('10.2.0.0')), '10.2.0.0/24')
  assert.equal(t.lookup(ip('10.2.0.77')), '10.2.0.0/24')
  assert.equal(t.lookup(ip('10.2.0.255')), '10.2.0.0/24')
  assert.equal(t.lookup(ip('10.1.255.255')), undefined)
  assert.equal(t.lookup(ip('10.2.1.0')), undefined)
})

test('nested /8, /16, /24, /32: each address gets its longest match', () => {
  const t = table('10.0.0.0/8', '10.2.0.0/16', '10.2.3.0/24', '10.2.3.4/32')
  assert.equal(t.lookup(ip('10.2.3.4')), '10.2.3.4/32')
  assert.equal(t.lookup(ip('10.2.3.5')), '10.2.3.0/24')
  assert.equal(t.lookup(ip('10.2.4.5')), '10.2.0.0/16')
  assert.equal(t.lookup(ip('10.3.0.1')), '10.0.0.0/8')
  assert.equal(t.lookup(ip('11.2.3.4')), undefined)
})

test('insertion order does not matter (shorter prefix added after the longer one)', () => {
  const t = table('10.2.3.0/24', '10.0.0.0/8')
  assert.equal(t.lookup(ip('10.2.3.9')), '10.2.3.0/24')
  assert.equal(t.lookup(ip('10.9.9.9')), '10.0.0.0/8')
})

test('/1 and /32 at the ends of the address space', () => {
  const t = table('128.0.0.0/1', '0.0.0.1/32')
  assert.equal(t.lookup(ip('255.255.255.255')), '128.0.0.0/1')
  assert.equal(t.lookup(ip('128.0.0.0')), '128.0.0.0/1')
  assert.equal(t.lookup(ip('127.255.255.255')), undefined)
  assert.equal(t.lookup(ip('0.0.0.1')), '0.0.0.1/32')
  assert.equal(t.lookup(ip('0.0.0.0')), undefined)
})

test('delete: the next shorter prefix takes over; deleting twice reports false; size follows', () => {
  const t = table('10.0.0.0/8', '10.2.3.0/24')
  assert.equal(t.size, 2)
  assert.equal(t.delete(ip('10.2.3.0'), 24), true)
  assert.equal(t.lookup(ip('10.2.3.9')), '10.0.0.0/8')
  assert.equal(t.delete(ip('10.2.3.0'), 24), false)
  assert.equal(t.delete(ip('10.0.0.0'), 16), false, 'same network, other length')
  assert.equal(t.delete(ip('10.0.0.0'), 8), true)
  assert.equal(t.lookup(ip('10.2.3.9')), undefined)
  assert.equal(t.size, 0)
  assert.deepEqual(t.entries(), [])
})

test('set replaces the value of an existing prefix without growing; non-canonical prefixes are refused', () => {
  const t = table('10.2.0.0/24')
  t.set(ip('10.2.0.0'), 24, 'again')
  assert.equal(t.size, 1)
  assert.equal(t.lookup(ip('10.2.0.1')), 'again')
  assert.throws(() => t.set(ip('10.2.0.1'), 24, 'x'), RangeError)
  assert.throws(() => t.set(ip('10.2.0.0'), 33, 'x'), RangeError)
  assert.throws(() => t.set(ip('10.2.0.0'), -1, 'x'), RangeError)
})

test('overlapping: equal, containing and contained prefixes are found; disjoint ones are not', () => {
  const t = table('10.2.0.0/16', '192.168.7.0/24')
  const o = (p: string): string | undefined => { const [a, l] = p.split('/'); return t.overlapping(ip(a!), Number(l))?.value }
  assert.equal(o('10.2.0.0/16'), '10.2.0.0/16')
  assert.equal(o('10.0.0.0/8'), '10.2.0.0/16')
  assert.equal(o('10.2.9.0/24'), '10.2.0.0/16')
  assert.equal(o('192.168.7.7/32'), '192.168.7.0/24')
  assert.equal(o('10.3.0.0/16'), undefined)
  assert.equal(o('192.168.6.0/24'), undefined)
  assert.equal(o('192.168.6.0/23') , '192.168.7.0/24')
})

// Brute force: scan every prefix, keep the longest that contains the address.
function naive(prefixes: readonly (readonly [number, number])[], addr: number): number | undefined {
  let best: number | undefined, bestLen = -1
  prefixes.forEach(([net, len], i) => {
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0
    if (((addr & mask) >>> 0) === net && len > bestLen) { best = i; bestLen = len }
  })
  return best
}

test('property: lookup equals a brute-force longest match for random tables and addresses', () => {
  // Addresses and prefixes drawn from a small region so that nesting and hits are common.
  const addr = fc.integer({ min: 0, max: 0xffff }).map((x) => (0x0a000000 + x * 0x101) >>> 0)
  const prefix = fc.tuple(addr, fc.integer({ min: 1, max: 32 })).map(([a, l]) => [((a & ((0xffffffff << (32 - l)) >>> 0)) >>> 0), l] as const)
  fc.assert(fc.property(fc.array(prefix, { maxLength: 12 }), fc.array(addr, { minLength: 1, maxLength: 20 }), (raw, addrs) => {
    // Deduplicate (the table keeps one value per prefix; the last set wins).
    const uniq = [...new Map(raw.map((p) => [`${p[0]}/${p[1]}`, p])).values()]
    const t = new PrefixTable<number>()
    uniq.forEach(([n, l], i) => t.set(n, l, i))
    for (const a of addrs) assert.equal(t.lookup(a), naive(uniq, a))
    // Remove half and check again.
    uniq.forEach(([n, l], i) => { if (i % 2 === 0) t.delete(n, l) })
    const left = uniq.map((p, i) => (i % 2 === 0 ? [0xffffffff, 32] as const : p))
    for (const a of addrs) assert.equal(t.lookup(a), naive(left, a))
  }), { numRuns: 300 })
})

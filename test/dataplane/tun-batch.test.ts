// Batched TUN writes: inside Dataplane.batch() the packets sessions send towards the TUN go out in
// one writeTunMany call at the end of the (outermost) batch; outside a batch, or without
// writeTunMany, each packet is written at once as before.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Dataplane } from '../../src/dataplane/dataplane.js'
import { udp } from './packets.js'

function setup(withMany = true, failMany = false) {
  const single: Uint8Array[] = []
  const many: Uint8Array[][] = []
  const dp = new Dataplane({
    writeTun: (p) => { single.push(p.slice()) },
    ...(withMany ? { writeTunMany: (ps: readonly Uint8Array[]) => { if (failMany) throw new Error('EIO'); many.push(ps.map((p) => p.slice())) } } : {}),
  })
  const a = dp.attach('198.19.0.10', { sendIp: () => {} })
  const b = dp.attach('198.19.0.11', { sendIp: () => {} })
  return { dp, a, b, single, many }
}
const fromA = (i: number): Uint8Array => udp('198.19.0.10', '203.0.113.5', new Uint8Array([i, 0, 0, 0, 0, 0, 0, 0]))

test('inside batch(): one writeTunMany at the end, in arrival order; nested batches flush once', () => {
  const { dp, a, b, single, many } = setup()
  dp.batch(() => {
    a.receive(fromA(1))
    dp.batch(() => { b.receive(udp('198.19.0.11', '203.0.113.5')); a.receive(fromA(2)) })
    assert.equal(many.length, 0, 'not flushed by the inner batch')
    a.receive(fromA(3))
    assert.equal(many.length, 0)
  })
  assert.equal(single.length, 0)
  assert.equal(many.length, 1)
  assert.deepEqual(many[0], [fromA(1), udp('198.19.0.11', '203.0.113.5'), fromA(2), fromA(3)])
  dp.batch(() => {})
  assert.equal(many.length, 1, 'an empty batch writes nothing')
})

test('outside a batch and without writeTunMany, packets are written one by one at once', () => {
  const s = setup()
  s.a.receive(fromA(1))
  assert.equal(s.single.length, 1)
  assert.equal(s.many.length, 0)
  const t = setup(false)
  t.dp.batch(() => { t.a.receive(fromA(1)); assert.equal(t.single.length, 1, 'immediately') ; t.a.receive(fromA(2)) })
  assert.equal(t.single.length, 2)
})

test('drops inside a batch are still counted, and a failing writeTunMany counts every packet of the batch', () => {
  const { dp, a, many } = setup()
  dp.batch(() => { a.receive(udp('198.19.0.99', '203.0.113.5')); a.receive(fromA(1)) })
  assert.equal(dp.counters.get('spoofed-source'), 1)
  assert.equal(many[0]!.length, 1)
  const f = setup(true, true)
  f.dp.batch(() => { f.a.receive(fromA(1)); f.a.receive(fromA(2)) })
  assert.equal(f.dp.counters.get('tun-write-error'), 2)
  f.dp.batch(() => { f.a.receive(fromA(3)) })
  assert.equal(f.dp.counters.get('tun-write-error'), 3, 'the queue was emptied after the failure')
})

test('an exception inside the batch still flushes what was queued before it', () => {
  const { dp, a, many } = setup()
  assert.throws(() => dp.batch(() => { a.receive(fromA(1)); throw new Error('bug') }), /bug/)
  assert.equal(many.length, 1)
  a.receive(fromA(2))
  assert.equal(many.length, 1, 'depth is back to 0: the next packet is written directly')
})

// Every IKEv1 message of a main mode + quick mode arriving at the wrong stage (RFC 2409 §5, §5.5 order):
// for each stage s (message s lost) and each message j >= s + 2 of the same session, j is delivered early; it must be
// dropped and counted without moving any state (IVs, keys, task step), and the handshake then completes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { I_ADDR, R_ADDR, childOf, pair } from './v1-harness.js'

const SEED = 400

test('each later message delivered early at each stage is dropped and the handshake still completes', () => {
  const ref = pair({ seed: SEED })
  ref.connect()
  ref.pump()
  assert.equal(ref.log.length, 9)
  for (let s = 0; s < 9; s++) {
    // j = s + 1 is skipped: it is exactly what the sender of s waits for (a reply whose request was lost
    // looks the same to it), so accepting it is right. From s + 2 on, nobody waits for it.
    for (let j = s + 2; j < 9; j++) {
      const p = pair({ seed: SEED })
      p.connect()
      let n = 0
      p.pump(() => (n++ < s ? 'ok' : 'drop'))
      const m = ref.log[j]!
      const [dst, from] = m.from === 'i' ? [p.r, { address: I_ADDR, port: 500 }] : [p.i, { address: R_ADDR, port: 500 }]
      const drops = () => Object.entries(dst.counters()).filter(([k]) => k.startsWith('drop:') || k === 'rx:retransmission').reduce((a, [, v]) => a + v, 0)
      const before = drops()
      dst.handleDatagram(p.clock.now, m.data, from)
      assert.equal(drops(), before + 1, `stage ${s}, message ${j}: counted as a drop`)
      assert.equal(dst.pollTransmit(), undefined, `stage ${s}, message ${j}: no answer`)
      assert.equal(dst.counters()['error:internal'] ?? 0, 0)
      p.settle()
      const [ci] = childOf(p.events.i), [cr] = childOf(p.events.r)
      assert.ok(ci && cr, `stage ${s}, message ${j} early: both child SAs up`)
      assert.deepEqual(ci.outbound.keymat, cr.inbound.keymat, `stage ${s}, message ${j}`)
    }
  }
})

// fast-check properties of IkeV1Endpoint (DESIGN.md §5, §6): at every stage of main mode + quick mode,
// hostile datagrams (random, or shaped with the live SA's cookies, every exchange type and flag) never
// make an exception escape, never reach the internal-error counter, and leave every SA either alive or
// closed with a reason.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { IkeV1Event } from '../../src/ike/v1/endpoint.js'
import { I_ADDR, R_ADDR, pair } from './v1-harness.js'

const shaped = fc.record({
  exchangeType: fc.constantFrom(2, 4, 5, 6, 32, 33, 99),
  flags: fc.integer({ min: 0, max: 7 }),
  nextPayload: fc.constantFrom(0, 1, 4, 5, 8, 10, 11, 12, 13, 20, 130, 132, 200),
  messageId: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff })),
  body: fc.uint8Array({ maxLength: 160 }),
  lengthDelta: fc.integer({ min: -8, max: 8 }),
})

test('hostile datagrams at every handshake stage: nothing escapes, no internal error, every SA ends with a reason', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 9 }), fc.array(fc.oneof(fc.uint8Array({ maxLength: 120 }).map((b) => ({ raw: b })), shaped), { maxLength: 25 }), (stage, noise) => {
    const p = pair({ seed: 300 + stage })
    p.connect()
    let delivered = 0
    p.pump(() => (delivered++ < stage ? 'ok' : 'drop'))
    const last = p.log[p.log.length - 1]?.data
    const cookies = last ? last.subarray(0, 16) : new Uint8Array(16)
    for (const n of noise) {
      let d: Uint8Array
      if ('raw' in n) d = n.raw
      else {
        d = new Uint8Array(28 + n.body.length)
        d.set(cookies)
        d[16] = n.nextPayload; d[17] = 0x10; d[18] = n.exchangeType; d[19] = n.flags
        new DataView(d.buffer).setUint32(20, n.messageId)
        new DataView(d.buffer).setUint32(24, Math.max(0, d.length + n.lengthDelta))
        d.set(n.body, 28)
      }
      p.i.handleDatagram(p.clock.now, d, { address: R_ADDR, port: 500 })
      p.r.handleDatagram(p.clock.now, d, { address: I_ADDR, port: 500 })
    }
    p.settle()
    for (const ep of [p.i, p.r]) assert.equal(ep.counters()['error:internal'] ?? 0, 0)
    const ended = (evs: IkeV1Event[]) => evs.filter((e) => e.type === 'closed').every((e) => e.type === 'closed' && e.reason.length > 0)
    assert.ok(ended(p.events.i) && ended(p.events.r))
  }), { seed: 4711, numRuns: 150 })
})

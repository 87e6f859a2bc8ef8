// fast-check over the receive path: hostile bytes never throw out of the SA or the demux, each
// drop is counted exactly once; random payloads round-trip in every algorithm; any single bit
// flip of a sealed packet is refused.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { EspDemux } from '../../src/esp/demux.js'
import { SUITES, saPair } from './harness.js'

function totalDrops(c: Record<string, number>): number {
  return Object.entries(c).filter(([k]) => k.startsWith('drop:')).reduce((n, [, v]) => n + v, 0)
}

test('random bytes (and random bytes behind our SPI) never throw; every one is counted as a drop', () => {
  for (const suite of [SUITES[0]!, SUITES.find((s) => s.enc.name === '3des-cbc')!, SUITES[SUITES.length - 1]!]) {
    const p = saPair(suite, 0x30000)
    const d = new EspDemux()
    d.add(p.in)
    let direct = 0, udp = 0
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (b, ourSpi) => {
      const pkt = b.slice()
      if (ourSpi && pkt.length >= 4) pkt.set([0, 3, 0, 0], 0)
      assert.equal(p.in.decrypt(pkt), undefined)
      assert.equal(p.in.decryptInto(pkt, new Uint8Array(300)), -1)
      direct += 2
      assert.notEqual(d.receiveUdp(pkt).kind, 'esp')
      udp++
    }), { numRuns: 300 })
    // Each direct call is one SA drop; each UDP payload is IKE, a keepalive, or one drop (demux or SA).
    const c = d.counters()
    const accounted = totalDrops(p.in.counters()) + totalDrops(c) + (c['rx:ike'] ?? 0) + (c['rx:keepalive'] ?? 0)
    assert.equal(accounted, direct + udp, suite.name)
  }
})

test('round trip: random payloads and next headers in every algorithm', () => {
  for (const suite of SUITES) {
    const p = saPair(suite, 0x30001)
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1600 }), fc.integer({ min: 0, max: 255 }).filter((n) => n !== 59), (payload, nh) => {
      const r = p.in.decrypt(p.out.encrypt(payload, nh)!)
      return r !== undefined && r.nextHeader === nh && Buffer.compare(Buffer.from(r.payload), Buffer.from(payload)) === 0
    }), { numRuns: 25 })
  }
})

test('any single-bit flip of a sealed packet is refused and leaves the window alone', () => {
  for (const suite of [SUITES[0]!, SUITES[SUITES.length - 1]!]) {
    const p = saPair(suite, 0x30002)
    const pkt = p.out.encrypt(Uint8Array.from({ length: 48 }, (_, i) => i), 17)!
    fc.assert(fc.property(fc.integer({ min: 0, max: pkt.length * 8 - 1 }), (bit) => {
      const bad = pkt.slice()
      bad[bit >> 3] = bad[bit >> 3]! ^ (1 << (bit & 7))
      return p.in.decrypt(bad) === undefined && p.in.highestSequenceNumber === 0
    }), { numRuns: 200 })
    assert.ok(p.in.decrypt(pkt))
  }
})

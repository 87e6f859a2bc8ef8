// IKEv1 dead peer detection (RFC 3706) between two IkeV1Endpoints with a manual clock: a live peer over
// hours, a silent peer (closed in about timeoutMs, children down), ESP traffic suppressing probes, replayed
// R-U-THERE / R-U-THERE-ACK counted; the notify bytes against RFC 3706 §5.3 built by hand.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { DecodeError } from '../../src/lib/errors.js'
import { decodeMessage, encodeMessage, encodePayloadChain } from '../../src/ike/v1/message/message.js'
import { bytesEqual } from '../../src/lib/bytes.js'
import { VID_DPD } from '../../src/ike/v1/vendor-ids.js'
import { IkeSaV1 } from '../../src/ike/v1/ike-sa.js'
import { DPD_DEAD_REASON, DpdState, dpdDeadline, dpdNotify, dpdStep, nextProbe, readDpdNotify, receiveDpd, seqAfter, seqWithin } from '../../src/ike/v1/tasks/dpd.js'
import { NotifyType } from '../../src/ike/v1/constants.js'
import { IkeV1Endpoint } from '../../src/ike/v1/endpoint.js'
import { VpnError } from '../../src/lib/errors.js'
import { fixedRng } from '../helpers/clock.js'
import { I_ADDR, childOf, pair } from './v1-harness.js'
import type { Fate } from './v1-harness.js'

type Pair = ReturnType<typeof pair>
/** Runs both endpoints' timers up to `until`, pumping datagrams through `fate` after each step. */
function runUntil(p: Pair, until: number, fate?: Fate, each?: (now: number) => void): void {
  p.pump(fate)
  for (let k = 0; k < 200_000; k++) {
    const d = [p.i.nextTimeout(), p.r.nextTimeout()].filter((x): x is number => x !== undefined)
    const next = Math.max(p.clock.now, d.length > 0 ? Math.min(...d) : Infinity)
    if (next > until) { p.clock.now = until; each?.(until); p.i.handleTimeout(until); p.r.handleTimeout(until); p.pump(fate); return }
    p.clock.now = next
    each?.(next)
    p.i.handleTimeout(next); p.r.handleTimeout(next)
    p.pump(fate)
  }
  throw new Error('runUntil did not reach its time')
}
const EXCHANGE = 18 // ISAKMP header: exchange type byte (RFC 2408 §3.1)
const isInformational = (d: Uint8Array) => d[EXCHANGE] === 5
const closedOf = (evs: Pair['events']['i']) => evs.filter((e) => e.type === 'closed')

test('RFC 3706 §5.3: R-U-THERE is a notify with protocol ISAKMP, SPI = CKY-I | CKY-R, 4-byte sequence (bytes by hand)', () => {
  const ckyI = Uint8Array.from({ length: 8 }, (_, k) => 0x10 + k), ckyR = Uint8Array.from({ length: 8 }, (_, k) => 0xa0 + k)
  const sa = new IkeSaV1('initiator', ckyI, ckyR, { address: '198.18.0.2', port: 500 }, { address: '198.18.0.1', port: 500 }, 0)
  const bytes = encodePayloadChain([dpdNotify(sa, NotifyType.RUThere, 0x01020304)])
  const want = Uint8Array.of(
    0, 0, 0, 32, //               next payload none, reserved, payload length 32
    0, 0, 0, 1, //                DOI: IPsec (RFC 2407 §4.2)
    1, 16, 0x8d, 0x28, //         protocol ISAKMP, SPI size 16, notify type 36136 (R-U-THERE)
    ...ckyI, ...ckyR, //          SPI: the cookie pair (§5.3)
    1, 2, 3, 4) //                notification data: the sequence number
  assert.deepEqual(bytes, want)
  const ack = encodePayloadChain([dpdNotify(sa, NotifyType.RUThereAck, 0xfffffffe)])
  assert.deepEqual([ack[10], ack[11]], [0x8d, 0x29], 'R-U-THERE-ACK is 36137')
  assert.deepEqual(readDpdNotify(sa, want.subarray(12, 28), want.subarray(28)), { seq: 0x01020304 })
  // §5.4: the cookies in the SPI are checked; the data must be 4 bytes.
  const wrong = new Uint8Array(want.subarray(12, 28)); wrong[15]! ^= 1
  assert.deepEqual(readDpdNotify(sa, wrong, want.subarray(28)), { bad: 'spi' })
  assert.deepEqual(readDpdNotify(sa, want.subarray(12, 28), Uint8Array.of(1, 2, 3)), { bad: 'length' })
})

test('sequence numbers compare in serial arithmetic across the 2^32 wrap', () => {
  assert.ok(seqAfter(1, 0)); assert.ok(!seqAfter(0, 1)); assert.ok(!seqAfter(5, 5))
  assert.ok(seqAfter(0, 0xffffffff), '0 follows 2^32-1')
  assert.ok(seqWithin(0, 0xfffffffe, 1)); assert.ok(!seqWithin(2, 0xfffffffe, 1)); assert.ok(!seqWithin(0xfffffffd, 0xfffffffe, 1))
})

test('the DPD clock, one case per cell: idle/probe/retransmit/dead, and traffic ending a probe', () => {
  const o = { intervalMs: 30_000, timeoutMs: 150_000 }
  const cell = (probe: boolean, lastHeard: number, now: number, nextAt = 40_000) => {
    const d = new DpdState(0, 7)
    if (probe) d.probe = { first: 8, last: 8, startedAt: 30_000, nextAt, tries: 0 }
    return { step: dpdStep(d, o, lastHeard, now), deadline: dpdDeadline(d, o, lastHeard), probe: d.probe !== undefined }
  }
  // no probe: quiet before the interval, a probe at it
  assert.deepEqual(cell(false, 0, 29_999), { step: undefined, deadline: 30_000, probe: false })
  assert.deepEqual(cell(false, 0, 30_000), { step: 'probe', deadline: 30_000, probe: false })
  // probe outstanding: wait for the retransmission time, then resend; dead at lastHeard + timeout
  assert.deepEqual(cell(true, 0, 39_999), { step: undefined, deadline: 40_000, probe: true })
  assert.deepEqual(cell(true, 0, 40_000), { step: 'retransmit', deadline: 40_000, probe: true })
  assert.deepEqual(cell(true, 0, 150_000, 200_000), { step: 'dead', deadline: 150_000, probe: true })
  // traffic (or any authenticated message) after the probe started: the probe is over, the interval restarts
  assert.deepEqual(cell(true, 35_000, 40_000), { step: undefined, deadline: 65_000, probe: false })
  const d = new DpdState(0, 0xffffffff)
  assert.equal(d.nextSeq(), 0, 'the sequence wraps')
})

test('receiving DPD notifies, one case per cell (RFC 3706 §5.3, §5.4)', () => {
  const sa = new IkeSaV1('responder', new Uint8Array(8).fill(1), new Uint8Array(8).fill(2), { address: '198.18.0.1', port: 500 }, { address: '198.18.0.2', port: 500 }, 0)
  const spi = Uint8Array.of(...sa.ckyI, ...sa.ckyR)
  const seq = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff)
  const R = NotifyType.RUThere, A = NotifyType.RUThereAck
  const d = new DpdState(0, 100)
  // R-U-THERE: the first, a newer one, the same again (answered), an older one (replay), across the wrap.
  assert.deepEqual(receiveDpd(d, sa, 1, R, spi, seq(0xfffffffe)), { count: 'rx:dpd:r-u-there', ack: 0xfffffffe })
  assert.deepEqual(receiveDpd(d, sa, 2, R, spi, seq(1)), { count: 'rx:dpd:r-u-there', ack: 1 })
  assert.deepEqual(receiveDpd(d, sa, 3, R, spi, seq(1)), { count: 'rx:dpd:r-u-there', ack: 1 })
  assert.deepEqual(receiveDpd(d, sa, 4, R, spi, seq(0xffffffff)), { count: 'drop:dpd:replayed-sequence' })
  assert.equal(d.lastSeen, 3, 'a replay is no proof of life')
  // Cookie pair and length are checked first.
  assert.deepEqual(receiveDpd(d, sa, 5, R, spi.map((b) => b ^ 1), seq(2)), { count: 'drop:dpd:bad-spi' })
  assert.deepEqual(receiveDpd(d, sa, 5, R, spi, Uint8Array.of(0, 2)), { count: 'drop:dpd:bad-length' })
  // ACK: none expected, then a probe round of two sends (101, 102): inside it ends the round, outside it is counted.
  assert.deepEqual(receiveDpd(d, sa, 6, A, spi, seq(101)), { count: 'drop:dpd:unexpected-ack' })
  assert.deepEqual(nextProbe(d, 10, { firstMs: 2000, factor: 2 }), { seq: 101, count: 'tx:dpd:r-u-there' })
  assert.deepEqual(nextProbe(d, 2010, { firstMs: 2000, factor: 2 }), { seq: 102, count: 'tx:dpd:retransmit' })
  assert.equal(d.probe?.nextAt, 2010 + 4000, 'back-off')
  assert.deepEqual(receiveDpd(d, sa, 7, A, spi, seq(100)), { count: 'drop:dpd:bad-sequence' })
  assert.deepEqual(receiveDpd(d, sa, 7, A, spi, seq(103)), { count: 'drop:dpd:bad-sequence' })
  assert.ok(d.probe)
  assert.deepEqual(receiveDpd(d, sa, 8, A, spi, seq(101)), { count: 'rx:dpd:ack' })
  assert.equal(d.probe, undefined)
  assert.equal(d.lastSeen, 8)
})

test('main mode 1 and 2 both announce DPD (RFC 3706 §5.1 vendor ID)', () => {
  const p = pair({ seed: 299 })
  p.connect()
  p.pump()
  for (const k of [0, 1]) {
    const m = decodeMessage(p.log[k]!.data)
    assert.ok(m.payloads.some((x) => x.payload === 'vendorId' && bytesEqual(x.data, VID_DPD)), `main mode ${k + 1}`)
  }
})

test('readDpdNotify never throws on hostile SPI and data', () => {
  const sa = new IkeSaV1('responder', new Uint8Array(8).fill(1), new Uint8Array(8).fill(2), { address: '198.18.0.1', port: 500 }, { address: '198.18.0.2', port: 500 }, 0)
  fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 12 }), (spi, data) => {
    try { readDpdNotify(sa, spi, data) } catch (e) { if (!(e instanceof DecodeError)) throw e }
  }))
})

test('a DPD timeout not above its interval is refused at configuration time', () => {
  assert.throws(() => new IkeV1Endpoint({ local: { address: '198.18.0.1', port: 500 }, rng: fixedRng(1), psk: () => undefined, dpd: { intervalMs: 30_000, timeoutMs: 30_000 } }), VpnError)
})

test('a live but idle peer: R-U-THERE / ACK keep both ends up for hours, one probe per interval', () => {
  const p = pair({ seed: 300 })
  p.connect()
  p.pump()
  const start = p.clock.now
  runUntil(p, start + 2 * 3600_000)
  assert.equal(closedOf(p.events.i).length + closedOf(p.events.r).length, 0, JSON.stringify(closedOf(p.events.i)))
  const ci = p.i.counters(), cr = p.r.counters()
  const probes = (ci['tx:dpd:r-u-there'] ?? 0) + (cr['tx:dpd:r-u-there'] ?? 0)
  // About one probe per 30 s idle (both ends may fire at the same instant with equal intervals).
  assert.ok(probes >= 200 && probes <= 490, `probes ${probes}`)
  assert.equal((ci['rx:dpd:ack'] ?? 0) + (cr['rx:dpd:ack'] ?? 0), probes, 'every probe answered')
  assert.equal((ci['tx:dpd:retransmit'] ?? 0) + (cr['tx:dpd:retransmit'] ?? 0), 0)
  // Children were rekeyed on the way (1 h lifetime); exactly one is live on each side.
  for (const evs of [p.events.i, p.events.r]) assert.equal(childOf(evs).length - evs.filter((e) => e.type === 'childSaDown').length, 1)
})

test('a silent peer: R-U-THERE retransmitted with back-off, closed in about timeoutMs, every child down', () => {
  for (const role of ['i', 'r'] as const) {
    const p = pair({ seed: 310 })
    p.connect()
    p.pump()
    const cut = p.clock.now
    // The network goes away both ways; each side must find out on its own.
    runUntil(p, cut + 200_000, () => 'drop')
    const side = role === 'i' ? p.events.i : p.events.r
    const closed = closedOf(side)
    assert.equal(closed.length, 1)
    assert.equal(closed[0]!.reason, DPD_DEAD_REASON)
    const down = side.filter((e) => e.type === 'childSaDown')
    assert.equal(down.length, 1)
    const d0 = down[0]!
    assert.equal(d0.type === 'childSaDown' && d0.reason, DPD_DEAD_REASON)
    const c = role === 'i' ? p.i.counters() : p.r.counters()
    assert.equal(c['tx:dpd:r-u-there'], 1, 'one probe round')
    assert.ok((c['tx:dpd:retransmit'] ?? 0) >= 4, 'retransmitted with back-off')
    assert.equal(role === 'i' ? p.i.saCount : p.r.saCount, 0)
  }
  // When: 150 s after the last message heard, not before.
  const p = pair({ seed: 311 })
  p.connect()
  p.pump()
  const last = p.clock.now
  runUntil(p, last + 149_999, () => 'drop')
  assert.equal(closedOf(p.events.i).length, 0)
  runUntil(p, last + 150_000, () => 'drop')
  assert.equal(closedOf(p.events.i).length, 1)
})

test('inbound ESP traffic (trafficSeen) suppresses DPD even with IKE cut off; when it stops, the peer is found dead', () => {
  const p = pair({ seed: 320 })
  p.connect()
  p.pump()
  const [ci] = childOf(p.events.i), [cr] = childOf(p.events.r)
  const start = p.clock.now
  let flowing = true
  // ESP arrives every 10 s on both sides while IKE datagrams are all lost.
  let tick = start
  const each = (now: number) => { if (!flowing) return; while (tick + 10_000 <= now) { tick += 10_000; p.i.trafficSeen(tick, ci!.inbound.spi); p.r.trafficSeen(tick, cr!.inbound.spi) } }
  for (let t = start + 10_000; t <= start + 600_000; t += 10_000) runUntil(p, t, () => 'drop', each)
  assert.equal((p.i.counters()['tx:dpd:r-u-there'] ?? 0) + (p.r.counters()['tx:dpd:r-u-there'] ?? 0), 0, 'no probe while traffic arrives')
  assert.equal(p.log.filter((l) => isInformational(l.data)).length, 0)
  assert.equal(closedOf(p.events.i).length + closedOf(p.events.r).length, 0)
  flowing = false
  const stopped = p.clock.now
  runUntil(p, stopped + 200_000, () => 'drop')
  const ci2 = closedOf(p.events.i)
  assert.equal(ci2.length, 1)
  assert.equal(ci2[0]!.reason, DPD_DEAD_REASON)
  // An unknown SPI is simply ignored.
  p.i.trafficSeen(p.clock.now, 12345)
})

test('a replayed R-U-THERE-ACK (old sequence) and a replayed R-U-THERE are counted and give no proof of life', () => {
  const p = pair({ seed: 330, rExtra: { dpd: { intervalMs: 60_000, timeoutMs: 300_000 } } })
  p.connect()
  p.pump()
  const t0 = p.clock.now
  // The initiator (30 s) probes first; keep its first R-U-THERE and the responder's ACK.
  runUntil(p, t0 + 31_000)
  const info = p.log.filter((l) => isInformational(l.data))
  const ruThere = info.find((l) => l.from === 'i')!, ack = info.find((l) => l.from === 'r')!
  assert.ok(ruThere && ack)
  assert.equal(p.i.counters()['rx:dpd:ack'], 1)
  // Next round: the initiator's new probe gets no answer; the old ACK is replayed instead.
  const mark = p.log.length
  runUntil(p, t0 + 62_000, (n, from) => (n >= mark && from === 'i' ? 'drop' : 'ok'))
  p.i.handleDatagram(p.clock.now, ack.data, { address: '198.18.0.2', port: 500 })
  assert.equal(p.i.counters()['drop:dpd:bad-sequence'], 1)
  assert.equal(p.i.counters()['rx:dpd:ack'], 1, 'not taken as an answer')
  // The responder answered R-U-THERE number 1; newer ones arrived since (none did here: deliver the replay
  // after a fresh one). A repeat of the newest is answered again; an older one is a replay.
  const before = p.r.counters()['rx:dpd:r-u-there'] ?? 0
  const probe2 = p.log.filter((l) => isInformational(l.data) && l.from === 'i').at(-1)!
  p.r.handleDatagram(p.clock.now, probe2.data, { address: '198.18.0.1', port: 500 })
  assert.equal(p.r.counters()['rx:dpd:r-u-there'], before + 1)
  p.r.handleDatagram(p.clock.now, ruThere.data, { address: '198.18.0.1', port: 500 })
  assert.equal(p.r.counters()['drop:dpd:replayed-sequence'], 1)
  assert.equal(p.r.counters()['rx:dpd:r-u-there'], before + 1)
  assert.equal(closedOf(p.events.i).length + closedOf(p.events.r).length, 0)
})

test('dpd: false never probes (the peer still does); no probe towards a peer without the DPD vendor ID', () => {
  const p = pair({ seed: 340, iExtra: { dpd: false } })
  p.connect()
  p.pump()
  runUntil(p, p.clock.now + 120_000, () => 'drop')
  assert.equal(p.i.counters()['tx:dpd:r-u-there'] ?? 0, 0, 'dpd: false never probes')
  assert.equal(p.r.counters()['tx:dpd:r-u-there'], 1, 'the responder still probes (both announced the VID)')

  // Main mode 1 without the DPD vendor ID (RFC 3706 §5.1): the responder never probes, the initiator does.
  const q = pair({ seed: 341 })
  q.connect()
  const mm1 = decodeMessage(q.i.pollTransmit()!.data)
  const stripped = encodeMessage(mm1.header, mm1.payloads.filter((x) => !(x.payload === 'vendorId' && bytesEqual(x.data, VID_DPD))))
  q.r.handleDatagram(q.clock.now, stripped, { address: I_ADDR, port: 500 })
  q.pump()
  assert.equal(childOf(q.events.r).length, 1)
  runUntil(q, q.clock.now + 120_000, () => 'drop')
  assert.equal(q.r.counters()['tx:dpd:r-u-there'] ?? 0, 0)
  assert.equal(q.i.counters()['tx:dpd:r-u-there'], 1)
  assert.equal(closedOf(q.events.r).length, 0, 'no DPD, no closure')
})

test('hostile copies of DPD and rekey datagrams (flipped, cut, spliced) never throw, never end an SA', () => {
  const p = pair({ seed: 350 })
  p.connect()
  p.pump()
  const [ci] = childOf(p.events.i)
  runUntil(p, p.clock.now + 31_000)
  p.i.rekeyChild(p.clock.now, ci!.inbound.spi)
  p.pump()
  const samples = p.log.slice(9).map((l) => l.data)
  assert.ok(samples.length >= 5, 'R-U-THERE, ACK and a quick mode captured')
  const from = { address: I_ADDR, port: 500 }, fromR = { address: '198.18.0.2', port: 500 }
  fc.assert(fc.property(fc.nat(samples.length - 1), fc.array(fc.nat(4000), { maxLength: 6 }), fc.nat(200), fc.uint8Array({ maxLength: 40 }), (k, flips, cut, tail) => {
    const d = new Uint8Array(samples[k]!)
    for (const f of flips) d[(f >> 3) % d.length]! ^= 1 << (f & 7)
    const cutAt = Math.max(0, d.length - cut)
    const bad = new Uint8Array([...d.subarray(0, cutAt), ...tail])
    p.r.handleDatagram(p.clock.now, bad, from)
    p.i.handleDatagram(p.clock.now, bad, fromR)
  }), { numRuns: 400, seed: 7 })
  assert.equal(p.i.counters()['error:internal'] ?? 0, 0)
  assert.equal(p.r.counters()['error:internal'] ?? 0, 0)
  p.pump()
  assert.equal(closedOf(p.events.i).length + closedOf(p.events.r).length, 0)
  // Still alive both ways afterwards.
  runUntil(p, p.clock.now + 300_000)
  assert.equal(closedOf(p.events.i).length + closedOf(p.events.r).length, 0)
})

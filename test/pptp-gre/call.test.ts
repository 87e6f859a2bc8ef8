// GreCall (RFC 2637 §4.2-§4.4) with a manual clock: pair traffic, piggybacked and ack-only
// acknowledgments and their timing, reordering, loss, duplicates, far-ahead packets, wraparound.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { toHex } from '../../src/lib/bytes.js'
import { GreCall } from '../../src/pptp/gre/call.js'
import { decodeGre, encodeGre } from '../../src/pptp/gre/packet.js'
import { ManualClock } from '../helpers/clock.js'

const frame = (n: number): Uint8Array => new Uint8Array([0xff, 0x03, 0x00, 0x21, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff])
const tag = (f: Uint8Array): number => ((f[4]! << 24) >>> 0) + ((f[5]! << 16) | (f[6]! << 8) | f[7]!)
/** A data packet to call id 2 with sequence number `seq`, carrying frame(seq). */
const pkt = (seq: number, ack?: number): Uint8Array => encodeGre({ callId: 2, sequenceNumber: seq, acknowledgmentNumber: ack, payload: frame(seq) })

function pair(opts: Partial<ConstructorParameters<typeof GreCall>[0]> = {}): { a: GreCall; b: GreCall } {
  return {
    a: new GreCall({ localCallId: 1, peerCallId: 2, peerReceiveWindow: 64, ...opts }),
    b: new GreCall({ localCallId: 2, peerCallId: 1, peerReceiveWindow: 64, ...opts }),
  }
}
function drain(c: GreCall): number[] { const out: number[] = []; for (let f; (f = c.pollFrame());) out.push(tag(f)); return out }
function drainTx(c: GreCall): string[] { const out: string[] = []; for (let p; (p = c.pollTransmit());) out.push(toHex(p)); return out }

test('in order: frames arrive unchanged; with no data going back an ack-only packet follows after ackDelayMs (§4.4)', () => {
  const clock = new ClockPair()
  const { a, b } = pair()
  const sent = [0, 1, 2].map((n) => a.sendFrame(frame(n)))
  // A's first packets carry seq 0,1,2 and no ack (nothing received yet): S=1, A=0.
  assert.equal(toHex(sent[0]!), '3001880b' + '0008' + '0002' + '00000000' + toHex(frame(0)))
  for (const p of sent) b.handlePacket(clock.now, p)
  assert.deepEqual(drain(b), [0, 1, 2])
  assert.equal(b.nextTimeout(), clock.now + 100)
  b.handleTimeout(clock.advance(99)) // early: harmless
  assert.deepEqual(drainTx(b), [])
  b.handleTimeout(clock.advance(1))
  // Ack-only, §4.1: K=1, S=0, A=1, payload length 0, call id 1 (A's), ack = 2 (highest received).
  const acks = drainTx(b)
  assert.deepEqual(acks, ['2081880b' + '0000' + '0001' + '00000002'])
  assert.equal(b.nextTimeout(), undefined)
  assert.equal(a.outstanding, 3)
  a.handlePacket(clock.now, Buffer.from(acks[0]!, 'hex'))
  assert.equal(a.outstanding, 0)
  assert.equal(b.counters()['tx:ack-only'], 1)
  assert.equal(a.counters()['rx:ack-only'], 1)
})

test('piggybacking: data going back carries the ack and cancels the ack-only timer', () => {
  const clock = new ClockPair()
  const { a, b } = pair()
  b.handlePacket(clock.now, a.sendFrame(frame(0)))
  assert.equal(b.nextTimeout(), clock.now + 100)
  const back = decodeGre(b.sendFrame(frame(9)))
  assert.equal(back.acknowledgmentNumber, 0)
  assert.equal(back.sequenceNumber, 0)
  assert.equal(b.nextTimeout(), undefined)
  // Nothing new received: the next data packet carries no ack (A=0).
  assert.equal(decodeGre(b.sendFrame(frame(10))).acknowledgmentNumber, undefined)
  b.handleTimeout(clock.advance(1000))
  assert.deepEqual(drainTx(b), [])
})

test('half the advertised receive window unacknowledged is acked at once, not after the delay', () => {
  const clock = new ClockPair()
  const b = new GreCall({ localCallId: 2, peerCallId: 1, peerReceiveWindow: 64, receiveWindow: 8 })
  for (let i = 0; i < 3; i++) b.handlePacket(clock.now, pkt(i))
  assert.deepEqual(drainTx(b), [])
  b.handlePacket(clock.now, pkt(3))
  assert.deepEqual(drainTx(b), ['2081880b000000010000' + '0003'])
})

test('reordering within the window is repaired: 0 2 1 3 4 delivers 0 1 2 3 4', () => {
  const clock = new ClockPair()
  const { b } = pair()
  for (const s of [0, 2, 1, 3, 4]) b.handlePacket(clock.now, pkt(s))
  assert.deepEqual(drain(b), [0, 1, 2, 3, 4])
  const c = b.counters()
  assert.equal(c['reordered'], 1)
  assert.equal(c['lost'], undefined)
  assert.equal(c.held, 0)
  // The ack is the highest received.
  assert.equal(decodeGre(b.sendFrame(frame(0))).acknowledgmentNumber, 4)
})

test('loss: a gap is waited for reorderTimeoutMs, then given up and counted; the late packet is dropped (§4.3)', () => {
  const clock = new ClockPair()
  const { b } = pair()
  b.handlePacket(clock.now, pkt(0))
  b.handlePacket(clock.now, pkt(2))
  clock.advance(10)
  b.handlePacket(clock.now, pkt(3))
  assert.deepEqual(drain(b), [0])
  const t0 = clock.now - 10
  assert.equal(b.nextTimeout(), t0 + 50) // the oldest held packet's wait decides, before the ack timer (t0+100)
  b.handleTimeout(t0 + 49)
  assert.deepEqual(drain(b), [])
  b.handleTimeout(t0 + 50)
  assert.deepEqual(drain(b), [2, 3])
  b.handlePacket(clock.now, pkt(1))
  assert.deepEqual(drain(b), [])
  const c = b.counters()
  assert.equal(c['lost'], 1)
  assert.equal(c['drop:late'], 1)
  b.handlePacket(clock.now, pkt(4))
  assert.deepEqual(drain(b), [4])
})

test('duplicates are dropped and counted, whether already delivered or still held', () => {
  const clock = new ClockPair()
  const { b } = pair()
  for (const s of [0, 1, 1, 3, 3, 0]) b.handlePacket(clock.now, pkt(s))
  assert.deepEqual(drain(b), [0, 1])
  assert.equal(b.counters()['drop:duplicate'], 3)
  b.handlePacket(clock.now, pkt(2))
  assert.deepEqual(drain(b), [2, 3])
})

test('a jump past the reorder window gives the gap up at once; held packets go first, in order', () => {
  const clock = new ClockPair()
  const { b } = pair({ reorderWindow: 4 })
  for (const s of [0, 2, 3, 10]) b.handlePacket(clock.now, pkt(s))
  assert.deepEqual(drain(b), [0, 2, 3, 10])
  assert.equal(b.counters()['lost'], 7) // 1, 4..9
  assert.equal(b.nextTimeout(), clock.now + 100) // only the ack timer remains
})

test('reorder buffer disabled (reorderWindow 0) behaves like Linux pptp.c: newer accepted, older dropped', () => {
  const clock = new ClockPair()
  const { b } = pair({ reorderWindow: 0 })
  for (const s of [0, 2, 1, 3]) b.handlePacket(clock.now, pkt(s))
  assert.deepEqual(drain(b), [0, 2, 3])
  assert.equal(b.counters()['drop:late'], 1)
  assert.equal(b.counters()['lost'], 1)
})

test('far outside the window: one packet is dropped and moves nothing; a short in-order streak resynchronises', () => {
  const clock = new ClockPair()
  const { b } = pair({ maxSeqJump: 1024 })
  b.handlePacket(clock.now, pkt(0))
  b.handlePacket(clock.now, pkt(5000))
  b.handlePacket(clock.now, pkt(1))
  assert.deepEqual(drain(b), [0, 1])
  assert.equal(b.counters()['drop:far-ahead'], 1)
  assert.equal(decodeGre(b.sendFrame(frame(0))).acknowledgmentNumber, 1) // the forged number is not acked
  for (const s of [9000, 9001, 9002, 9003]) b.handlePacket(clock.now, pkt(s))
  assert.deepEqual(drain(b), [9002, 9003])
  assert.equal(b.counters()['resync'], 1)
  assert.equal(b.counters()['drop:far-ahead'], 3)
  b.handlePacket(clock.now, pkt(9001))
  assert.equal(b.counters()['drop:late'], 1)
})

test('sequence numbers wrap modulo 2^32, reordering across the wrap included', () => {
  const clock = new ClockPair()
  const { b } = pair()
  for (const s of [0xfffffffe, 0, 0xffffffff, 1]) b.handlePacket(clock.now, pkt(s))
  assert.deepEqual(drain(b), [0xfffffffe, 0xffffffff, 0, 1])
  assert.equal(b.counters()['reordered'], 1)
  assert.equal(decodeGre(b.sendFrame(frame(0))).acknowledgmentNumber, 1)
})

test('acknowledgments: for unsent packets counted invalid, older ones stale; the send window is tracked (§4.2)', () => {
  const clock = new ClockPair()
  const a = new GreCall({ localCallId: 2, peerCallId: 1, peerReceiveWindow: 2 })
  a.handlePacket(clock.now, encodeGre({ callId: 2, sequenceNumber: undefined, acknowledgmentNumber: 0, payload: new Uint8Array(0) }))
  assert.equal(a.counters()['ack:invalid'], 1)
  a.sendFrame(frame(0)); a.sendFrame(frame(1))
  assert.equal(a.sendWindowOpen, false)
  a.sendFrame(frame(2)) // not enforced: counted
  assert.equal(a.counters()['tx:over-window'], 1)
  a.handlePacket(clock.now, pkt(0, 1))
  assert.equal(a.outstanding, 1)
  assert.equal(a.sendWindowOpen, true)
  a.handlePacket(clock.now, pkt(1, 0))
  assert.equal(a.counters()['ack:stale'], 1)
  assert.equal(a.outstanding, 1)
  a.handlePacket(clock.now, pkt(2, 7))
  assert.equal(a.counters()['ack:invalid'], 2)
  assert.deepEqual(drain(a), [0, 1, 2]) // data is delivered even when its ack is bogus
})

test('bad input is counted by reason and never throws; a closed call takes nothing', () => {
  const clock = new ClockPair()
  const { b } = pair()
  b.handlePacket(clock.now, new Uint8Array([0x30, 0x00, 0x88, 0x0b]))
  b.handlePacket(clock.now, encodeGre({ callId: 3, sequenceNumber: 0, acknowledgmentNumber: undefined, payload: frame(0) }))
  b.handlePacket(clock.now, Uint8Array.from(Buffer.from('3000880b000100020000000000', 'hex')))
  const c = b.counters()
  assert.equal(c['drop:malformed:gre.header'], 1)
  assert.equal(c['drop:malformed:gre.Ver'], 1)
  assert.equal(c['drop:wrong-call-id'], 1)
  b.handlePacket(clock.now, pkt(0))
  b.handlePacket(clock.now, pkt(2))
  b.close()
  assert.equal(b.pollFrame(), undefined)
  assert.equal(b.nextTimeout(), undefined)
  b.handlePacket(clock.now, pkt(1))
  assert.equal(b.counters()['drop:closed'], 1)
  assert.throws(() => b.sendFrame(frame(0)), RangeError)
})

test('sendFrameInto writes at an offset and reports its length', () => {
  const { a } = pair()
  const buf = new Uint8Array(64)
  const n = a.sendFrameInto(frame(5), buf, 20)
  assert.equal(n, 12 + 8)
  assert.deepEqual(decodeGre(buf.subarray(20, 20 + n)).sequenceNumber, 0)
  assert.throws(() => a.sendFrameInto(frame(5), new Uint8Array(19), 0), RangeError)
})

test('property: any loss, duplication and bounded reordering delivers strictly increasing frames, each at most once, all of them when nothing is lost', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 120 }),
    fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 200 }),
    fc.array(fc.nat(), { maxLength: 20 }),
    fc.array(fc.nat(), { maxLength: 20 }),
    fc.integer({ min: 0, max: 0xffffffff }),
    (n, shifts, lose, dup, base) => {
      const clock = new ClockPair()
      const { b } = pair({ reorderWindow: 8 })
      // Displace each packet by at most 6 positions.
      const order = Array.from({ length: n }, (_, i) => ({ i, key: i + (shifts[i] ?? 0) })).sort((x, y) => x.key - y.key).map((x) => x.i)
      const lost = new Set(lose.map((x) => x % n).filter((x) => x !== 0))
      const arrivals: number[] = []
      for (const i of order) { if (!lost.has(i)) arrivals.push(i) }
      // A duplicate arrives at most 6 positions after its original (a copy cannot precede the packet it copies by far).
      for (const d of dup) { const k = d % arrivals.length; arrivals.splice(Math.min(arrivals.length, k + 1 + (d % 6)), 0, arrivals[k]!) }
      if (arrivals[0] !== 0) arrivals.unshift(0) // the first packet fixes the base (as a real peer's first packet does)
      const got: number[] = []
      for (const i of arrivals) {
        b.handlePacket(clock.advance(1), pkt((base + i) >>> 0))
        for (let f; (f = b.pollFrame());) got.push((tag(f) - base) >>> 0)
      }
      b.handleTimeout(clock.advance(1000))
      for (let f; (f = b.pollFrame());) got.push((tag(f) - base) >>> 0)
      for (let k = 1; k < got.length; k++) assert.ok(got[k]! > got[k - 1]!, `not increasing: ${got.join(',')}`)
      if (lost.size === 0) assert.deepEqual(got, Array.from({ length: n }, (_, i) => i))
      else for (const l of lost) assert.ok(!got.includes(l))
    }), { numRuns: 300 })
})

test('full duplex: acks ride on data both ways, nothing is left outstanding and no ack-only packet is needed', () => {
  const clock = new ClockPair()
  const { a, b } = pair()
  for (let i = 0; i < 50; i++) {
    b.handlePacket(clock.advance(5), a.sendFrame(frame(i)))
    a.handlePacket(clock.advance(5), b.sendFrame(frame(1000 + i)))
    a.handleTimeout(clock.now); b.handleTimeout(clock.now)
  }
  assert.deepEqual(drain(b), Array.from({ length: 50 }, (_, i) => i))
  assert.deepEqual(drain(a), Array.from({ length: 50 }, (_, i) => 1000 + i))
  assert.equal(a.outstanding, 0) // every packet of A was acked by B's next data packet
  assert.equal(b.outstanding, 1) // B's last packet awaits A's ack: it comes alone after ackDelayMs
  assert.deepEqual(drainTx(a), [])
  a.handleTimeout(clock.advance(100))
  for (let p; (p = a.pollTransmit());) b.handlePacket(clock.now, p)
  assert.equal(b.outstanding, 0)
  assert.equal(a.counters()['tx:ack-only'], 1)
  assert.equal(b.counters()['tx:ack-only'], undefined)
})

class ClockPair extends ManualClock {}

// RFC 2661 §5.8 reliable control channel and §6.5 HELLO, with a manual clock: golden ZLB bytes,
// piggybacked acks, loss and retransmission with back-off, reordering, duplicates, window, silence.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ControlChannel } from '../../src/l2tp/control/channel.js'
import type { ChannelOptions, DeliveredMessage } from '../../src/l2tp/control/channel.js'
import { decodeL2tp, encodeControl } from '../../src/l2tp/header.js'
import type { ControlHeader } from '../../src/l2tp/header.js'
import { decodeControlBody, encodeControlBody } from '../../src/l2tp/avp/codec.js'
import { MessageType } from '../../src/l2tp/avp/constants.js'
import { seqAdd, seqDiff, seqLe, seqLt } from '../../src/l2tp/control/seq.js'
import { toHex } from '../../src/lib/bytes.js'
import { ManualClock } from '../helpers/clock.js'

const body = (n: number): Uint8Array => encodeControlBody({ messageType: MessageType.HELLO, firmwareRevision: n })
const tag = (d: DeliveredMessage): number => decodeControlBody(d.body).fields.firmwareRevision ?? -1
const ctl = (dg: Uint8Array): ControlHeader => decodeL2tp(dg).header as ControlHeader
const drain = <T>(poll: () => T | undefined): T[] => { const out: T[] = []; for (let x = poll(); x !== undefined; x = poll()) out.push(x); return out }

/** Two channels joined by an in-memory link; `drop` decides per datagram. */
class Pair {
  readonly clock = new ManualClock()
  readonly a: ControlChannel
  readonly b: ControlChannel
  readonly gotA: number[] = []
  readonly gotB: number[] = []
  readonly wire: { from: 'a' | 'b'; dg: Uint8Array }[] = []
  drop: (from: 'a' | 'b', dg: Uint8Array) => boolean = () => false
  constructor(opts: ChannelOptions = {}) {
    this.a = new ControlChannel(this.clock.now, opts)
    this.b = new ControlChannel(this.clock.now, opts)
    this.a.setPeerTunnelId(20); this.b.setPeerTunnelId(10)
  }
  /** Moves every queued datagram across (minus drops) until both sides are quiet. */
  flush(): void {
    for (let guard = 0; guard < 10_000; guard++) {
      for (const dg of drain(() => this.a.pollTransmit())) this.wire.push({ from: 'a', dg })
      for (const dg of drain(() => this.b.pollTransmit())) this.wire.push({ from: 'b', dg })
      const next = this.wire.shift()
      if (!next) break
      if (this.drop(next.from, next.dg)) continue
      const to = next.from === 'a' ? this.b : this.a
      const p = decodeL2tp(next.dg)
      to.handleMessage(this.clock.now, p.header as ControlHeader, p.payload)
      for (const d of drain(() => this.a.pollDelivered())) this.gotA.push(tag(d))
      for (const d of drain(() => this.b.pollDelivered())) this.gotB.push(tag(d))
    }
  }
  /** Runs timers up to now + ms, flushing after each. */
  run(ms: number): void {
    const end = this.clock.now + ms
    for (;;) {
      this.flush()
      const ts = [this.a.nextTimeout(), this.b.nextTimeout()].filter((t): t is number => t !== undefined && t <= end)
      if (ts.length === 0) break
      this.clock.now = Math.max(this.clock.now, Math.min(...ts))
      this.a.handleTimeout(this.clock.now); this.b.handleTimeout(this.clock.now)
    }
    this.clock.now = end
    this.flush()
  }
}

test('§5.8 Ns/Nr arithmetic is modulo 2^16', () => {
  assert.equal(seqAdd(0xffff, 1), 0)
  assert.equal(seqDiff(0, 0xffff), 1)
  assert.equal(seqDiff(0xffff, 0), -1)
  assert.ok(seqLt(0xfff0, 5) && !seqLt(5, 0xfff0) && seqLe(7, 7) && !seqLt(7, 7))
  assert.equal(seqDiff(0x8000, 0), -0x8000)
})

test('§5.8 a message, then a ZLB ACK after the ack delay: golden bytes (Ns not consumed, Nr 1)', () => {
  const p = new Pair({ helloInterval: 0 })
  p.a.send(p.clock.now, 0, body(1))
  const [dg] = drain(() => p.a.pollTransmit())
  assert.deepEqual(ctl(dg!), { type: 'control', tunnelId: 20, sessionId: 0, ns: 0, nr: 0 })
  const h = decodeL2tp(dg!)
  p.b.handleMessage(p.clock.now, h.header as ControlHeader, h.payload)
  assert.equal(tag(p.b.pollDelivered()!), 1)
  assert.equal(p.b.pollTransmit(), undefined, 'the ZLB waits for a reply to piggyback on')
  assert.equal(p.b.nextTimeout(), p.clock.now + 250)
  p.b.handleTimeout(p.clock.now + 250)
  // ZLB: C802, Length 12, Tunnel 10 (a's), Session 0, Ns 0 (b sent nothing), Nr 1.
  assert.equal(toHex(p.b.pollTransmit()!), 'c802000c000a000000000001')
  assert.equal(p.b.counters.get('tx-zlb'), 1)
})

test('§5.8 a reply within the ack delay carries the acknowledgment: no ZLB', () => {
  const p = new Pair({ helloInterval: 0 })
  p.a.send(p.clock.now, 0, body(1))
  p.flush()
  p.b.send(p.clock.now, 0, body(2))
  const [reply] = drain(() => p.b.pollTransmit())
  assert.deepEqual([ctl(reply!).ns, ctl(reply!).nr], [0, 1])
  p.b.handleTimeout(p.clock.now + 1000)
  assert.equal(p.b.counters.get('tx-zlb'), 0)
})

test('§5.8 peer silent: retransmissions at 1, 3, 7, 15, 23 s (doubling, capped at 8 s), cleared at 31 s', () => {
  const clock = new ManualClock()
  const t0 = clock.now
  const a = new ControlChannel(t0, { helloInterval: 0 })
  a.send(t0, 0, body(1))
  const times: number[] = []
  for (;;) {
    for (const dg of drain(() => a.pollTransmit())) { times.push(clock.now - t0); assert.equal(ctl(dg).ns, 0, 'same Ns') }
    const t = a.nextTimeout()
    if (t === undefined) break
    clock.now = t
    a.handleTimeout(t)
  }
  assert.deepEqual(times, [0, 1000, 3000, 7000, 15000, 23000])
  assert.equal(clock.now - t0, 31000)
  assert.deepEqual(a.pollEvent(), { type: 'peerSilent', ns: 0, retries: 5 })
  assert.equal(a.counters.get('tx-retransmit'), 5)
  a.send(clock.now, 0, body(2))
  assert.equal(a.pollTransmit(), undefined, 'nothing after the channel stopped')
})

test('§5.8 a retransmission keeps its Ns but carries the current Nr', () => {
  const p = new Pair({ helloInterval: 0 })
  p.drop = (from) => from === 'a'
  p.a.send(p.clock.now, 0, body(1))
  p.flush()
  p.b.send(p.clock.now, 0, body(2))
  p.flush() // a receives b's message: a's Nr becomes 1
  let rtx: Uint8Array | undefined
  p.drop = (from, dg) => { if (from === 'a' && decodeL2tp(dg).payload.length > 0) rtx = dg; return false }
  p.run(1000)
  assert.ok(rtx)
  assert.deepEqual([ctl(rtx).ns, ctl(rtx).nr], [0, 1])
  assert.deepEqual(p.gotB, [1])
})

test('§5.8 loss: a lost message is retransmitted and delivered once', () => {
  const p = new Pair({ helloInterval: 0 })
  let dropped = 0
  p.drop = (from, dg) => from === 'a' && decodeL2tp(dg).payload.length > 0 && dropped++ < 2
  p.a.send(p.clock.now, 0, body(1)); p.a.send(p.clock.now, 0, body(2))
  p.run(5000)
  assert.deepEqual(p.gotB, [1, 2])
  assert.equal(p.a.unacknowledged, 0)
})

test('§5.8 reordering: messages ahead of Nr are held and delivered in order', () => {
  const p = new Pair({ helloInterval: 0 })
  for (const n of [1, 2, 3]) p.a.send(p.clock.now, 0, body(n))
  const [m1, m2, m3] = drain(() => p.a.pollTransmit())
  for (const dg of [m3!, m2!, m1!]) { const h = decodeL2tp(dg); p.b.handleMessage(p.clock.now, h.header as ControlHeader, h.payload) }
  assert.deepEqual(drain(() => p.b.pollDelivered()).map(tag), [1, 2, 3])
  assert.equal(p.b.counters.get('rx-held'), 2)
  assert.equal(p.b.expectedNs, 3)
})

test('§5.8 duplicates are not delivered again but are acknowledged (the ZLB may have been lost)', () => {
  const p = new Pair({ helloInterval: 0 })
  p.a.send(p.clock.now, 0, body(1))
  const [dg] = drain(() => p.a.pollTransmit())
  const h = decodeL2tp(dg!)
  p.b.handleMessage(p.clock.now, h.header as ControlHeader, h.payload)
  p.b.handleTimeout(p.clock.now + 250)
  assert.equal(drain(() => p.b.pollTransmit()).length, 1)
  p.b.handleMessage(p.clock.now + 1000, h.header as ControlHeader, h.payload)
  assert.equal(drain(() => p.b.pollDelivered()).length, 1)
  assert.equal(p.b.counters.get('rx-duplicate'), 1)
  p.b.handleTimeout(p.clock.now + 1250)
  const [zlb] = drain(() => p.b.pollTransmit())
  assert.deepEqual([ctl(zlb!).ns, ctl(zlb!).nr, decodeL2tp(zlb!).payload.length], [0, 1, 0])
})

test('§5.8 window: at most the peer\'s Receive Window Size in flight (4 by default, 1 when it says 1)', () => {
  const p = new Pair({ helloInterval: 0 })
  for (let n = 1; n <= 6; n++) p.a.send(p.clock.now, 0, body(n))
  assert.equal(drain(() => p.a.pollTransmit()).length, 4)
  assert.deepEqual([p.a.unacknowledged, p.a.queued], [4, 2])
  // An ack of the first two opens two slots.
  p.a.handleMessage(p.clock.now, { type: 'control', tunnelId: 10, sessionId: 0, ns: 0, nr: 2 }, new Uint8Array(0))
  assert.deepEqual(drain(() => p.a.pollTransmit()).map((d) => ctl(d).ns), [4, 5])
  const q = new Pair({ helloInterval: 0 })
  q.a.setPeerWindow(1)
  for (let n = 1; n <= 5; n++) q.a.send(q.clock.now, 0, body(n))
  assert.equal(drain(() => q.a.pollTransmit()).length, 1)
  q.flush()
  q.run(2000)
  assert.deepEqual(q.gotB, [1, 2, 3, 4, 5])
})

test('§5.8 a message beyond our receive window is dropped and counted; an Nr acknowledging unsent messages drops the message', () => {
  const p = new Pair({ helloInterval: 0 })
  p.b.handleMessage(p.clock.now, { type: 'control', tunnelId: 10, sessionId: 0, ns: 4, nr: 0 }, body(9))
  assert.equal(p.b.counters.get('rx-beyond-window'), 1)
  p.b.handleMessage(p.clock.now, { type: 'control', tunnelId: 10, sessionId: 0, ns: 0, nr: 3 }, body(9))
  assert.equal(p.b.counters.get('rx-nr-ahead'), 1)
  assert.equal(p.b.pollDelivered(), undefined)
  p.b.handleMessage(p.clock.now, { type: 'control', tunnelId: 10, sessionId: 0, ns: 0, nr: 0 }, body(9))
  assert.equal(tag(p.b.pollDelivered()!), 9)
})

test('§6.5 HELLO after 60 s with nothing received; a silent peer then clears the tunnel', () => {
  const clock = new ManualClock()
  const a = new ControlChannel(clock.now)
  assert.equal(a.nextTimeout(), clock.now + 60_000)
  // Traffic from the peer pushes the HELLO back.
  clock.advance(30_000)
  a.handleMessage(clock.now, { type: 'control', tunnelId: 1, sessionId: 0, ns: 0, nr: 0 }, new Uint8Array(0))
  assert.equal(a.nextTimeout(), clock.now + 60_000)
  clock.advance(60_000)
  a.handleTimeout(clock.now)
  const [hello] = drain(() => a.pollTransmit())
  assert.equal(decodeControlBody(decodeL2tp(hello!).payload).messageType, MessageType.HELLO)
  assert.equal(a.counters.get('tx-hello'), 1)
  for (let t = a.nextTimeout(); t !== undefined && a.pollEvent() === undefined; t = a.nextTimeout()) { clock.now = t; a.handleTimeout(t) }
  assert.equal(clock.now, 1_000_000 + 90_000 + 31_000)
})

test('§5.8 Ns and Nr wrap at 2^16 without losing order', () => {
  const p = new Pair({ helloInterval: 0, ackDelay: 0 })
  const total = 65_540
  for (let n = 0; n < total; n++) { p.a.send(p.clock.now, 0, body(n & 0xffff)); p.flush(); p.a.handleTimeout(p.clock.now); p.b.handleTimeout(p.clock.now); p.flush() }
  assert.equal(p.gotB.length, total)
  assert.ok(p.gotB.every((v, i) => v === (i & 0xffff)))
  assert.equal(p.a.nextNs, total & 0xffff)
  assert.equal(p.a.unacknowledged, 0)
})

test('a stopped channel ignores input and has no timer', () => {
  const p = new Pair()
  p.a.stop()
  p.a.handleMessage(p.clock.now, { type: 'control', tunnelId: 1, sessionId: 0, ns: 0, nr: 0 }, body(1))
  assert.equal(p.a.pollDelivered(), undefined)
  assert.equal(p.a.nextTimeout(), undefined)
  assert.equal(p.a.counters.get('rx-after-stop'), 1)
  assert.equal(encodeControl({ tunnelId: 1, sessionId: 2, ns: 3, nr: 4 }, new Uint8Array(0)).length, 12)
})

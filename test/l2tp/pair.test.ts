// Our LAC tunnel against our LNS tunnel in memory with a manual clock (RFC 2661 §5.1, §5.2.1, §5.7, §5.8,
// §6.5): the whole set-up message by message, PPP frames both ways, CDN and StopCCN, tunnel
// authentication both ways, loss and reordering, a peer that goes silent.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { L2tpLacTunnel } from '../../src/l2tp/lac-tunnel.js'
import { L2tpLnsTunnel } from '../../src/l2tp/lns-tunnel.js'
import type { L2tpTunnelEvent, TunnelOptions } from '../../src/l2tp/tunnel-types.js'
import { decodeControlBody } from '../../src/l2tp/avp/codec.js'
import { decodeL2tp } from '../../src/l2tp/header.js'
import { MESSAGE_NAMES } from '../../src/l2tp/avp/constants.js'
import { fromHex, toHex, utf8 } from '../../src/lib/bytes.js'
import { ManualClock, fixedRng } from '../helpers/clock.js'

class Pair {
  readonly clock = new ManualClock()
  readonly lac: L2tpLacTunnel
  readonly lns: L2tpLnsTunnel
  readonly lacEvents: L2tpTunnelEvent[] = []
  readonly lnsEvents: L2tpTunnelEvent[] = []
  readonly trace: string[] = []
  lose: (toLns: boolean) => boolean = () => false
  /** The LNS vanishes: nothing reaches it, nothing comes from it. */
  lnsDead = false
  constructor(lac: Partial<TunnelOptions> = {}, lns: Partial<TunnelOptions> = {}) {
    this.lac = new L2tpLacTunnel(this.clock.now, { rng: fixedRng(1), tunnelId: 11, hostName: 'client', ...lac })
    this.lns = new L2tpLnsTunnel(this.clock.now, { rng: fixedRng(2), tunnelId: 22, hostName: 'gateway', ...lns })
  }
  private name(dg: Uint8Array): string {
    const p = decodeL2tp(dg)
    if (p.payload.length === 0) return 'ZLB'
    try { return MESSAGE_NAMES[decodeControlBody(p.payload).messageType] ?? '?' } catch { return 'hidden?' }
  }
  flush(): void {
    for (let i = 0; i < 1000; i++) {
      let moved = false
      for (let dg = this.lac.pollTransmit(); dg; dg = this.lac.pollTransmit()) {
        moved = true
        if (this.lnsDead || this.lose(true)) continue
        this.trace.push(`>${this.name(dg)}`); this.lns.handleDatagram(this.clock.now, dg)
      }
      for (let dg = this.lns.pollTransmit(); dg; dg = this.lns.pollTransmit()) {
        moved = true
        if (this.lnsDead || this.lose(false)) continue
        this.trace.push(`<${this.name(dg)}`); this.lac.handleDatagram(this.clock.now, dg)
      }
      for (let e = this.lac.pollEvent(); e; e = this.lac.pollEvent()) this.lacEvents.push(e)
      for (let e = this.lns.pollEvent(); e; e = this.lns.pollEvent()) this.lnsEvents.push(e)
      if (!moved) return
    }
  }
  run(ms: number): void {
    const end = this.clock.now + ms
    for (;;) {
      this.flush()
      const ts = [this.lac.nextTimeout(), this.lns.nextTimeout()].filter((t): t is number => t !== undefined && t <= end)
      if (ts.length === 0) break
      this.clock.now = Math.max(this.clock.now, Math.min(...ts))
      this.lac.handleTimeout(this.clock.now); this.lns.handleTimeout(this.clock.now)
    }
    this.clock.now = end
    this.flush()
  }
}
const types = (es: L2tpTunnelEvent[]): string[] => es.map((e) => e.type)

test('§5.1 + §5.2.1 set-up message by message, frames both ways, CDN from the LNS, StopCCN from the LAC', () => {
  const p = new Pair()
  const sid = p.lac.call(p.clock.now, { calledNumber: 'gw' })!
  p.run(1000)
  assert.deepEqual(p.trace.filter((t) => t !== '<ZLB' && t !== '>ZLB'), ['>SCCRQ', '<SCCRP', '>SCCCN', '>ICRQ', '<ICRP', '>ICCN'])
  assert.deepEqual(types(p.lacEvents), ['tunnelUp', 'sessionUp'])
  assert.deepEqual(types(p.lnsEvents), ['tunnelUp', 'sessionUp'])
  const lacUp = p.lacEvents[1]!, lnsUp = p.lnsEvents[1]!
  assert.ok(lacUp.type === 'sessionUp' && lnsUp.type === 'sessionUp')
  assert.deepEqual([lacUp.sessionId, lacUp.peerSessionId], [sid, lnsUp.sessionId])
  assert.deepEqual([lnsUp.peerSessionId, lnsUp.calledNumber, lnsUp.framingType], [sid, 'gw', 1])
  // PPP frames both ways through the data channel.
  p.lns.handleDatagram(p.clock.now, p.lac.encodeFrame(sid, fromHex('ff03c0210101000a'))!)
  const f = p.lns.pollFrame()
  assert.deepEqual([f?.sessionId, toHex(f?.frame ?? new Uint8Array(0))], [lnsUp.sessionId, 'ff03c0210101000a'])
  assert.equal(p.lns.pollFrame(), undefined)
  p.lac.handleDatagram(p.clock.now, p.lns.encodeFrame(lnsUp.sessionId, fromHex('ff03c0210201000a'))!)
  assert.equal(toHex(p.lac.pollFrame()!.frame), 'ff03c0210201000a')
  // §5.4: the LAC sends Ns while the LNS's data messages carry them, and stops when they stop.
  const seqIn = new Uint8Array([0x08, 0x02, 0, 11, sid >> 8, sid & 0xff, 0, 0, 0, 0, 0xc0, 0x21])
  p.lac.handleDatagram(p.clock.now, seqIn)
  assert.deepEqual([decodeL2tp(p.lac.encodeFrame(sid, fromHex('c021'))!).header.ns, decodeL2tp(p.lac.encodeFrame(sid, fromHex('c021'))!).header.ns], [0, 1])
  p.lac.handleDatagram(p.clock.now, p.lns.encodeFrame(lnsUp.sessionId, fromHex('c021'))!)
  assert.equal(decodeL2tp(p.lac.encodeFrame(sid, fromHex('c021'))!).header.ns, undefined)
  while (p.lac.pollFrame());
  // The LNS hangs up: CDN; the LAC reports the Result Code.
  p.lns.closeSession(p.clock.now, lnsUp.sessionId, 'ppp-terminated')
  p.run(1000)
  assert.deepEqual(p.lacEvents[2], { type: 'sessionDown', sessionId: sid, reason: 'peer-cdn', result: { result: 3 } })
  assert.deepEqual(p.lnsEvents[2], { type: 'sessionDown', sessionId: lnsUp.sessionId, reason: 'ppp-terminated', result: undefined })
  // The LAC closes the tunnel: StopCCN, acknowledged; both linger, then are done.
  p.lac.close(p.clock.now, 'user')
  p.run(1000)
  assert.deepEqual(p.lnsEvents[3], { type: 'closed', reason: 'peer-stopccn result 1', message: 'peer-stopccn result 1' })
  assert.equal(p.lacEvents[3]?.type, 'closed')
  p.run(40_000)
  assert.ok(p.lac.done && p.lns.done)
})

test('§5.1.1 tunnel authentication both ways with one shared secret; a different secret refuses the tunnel', () => {
  const secret = utf8('tunnel-secret')
  const p = new Pair({ secret, challengePeer: true }, { secret, challengePeer: true })
  p.lac.call(p.clock.now)
  p.run(1000)
  assert.deepEqual([types(p.lacEvents), types(p.lnsEvents)], [['tunnelUp', 'sessionUp'], ['tunnelUp', 'sessionUp']])
  const q = new Pair({ secret, challengePeer: true }, { secret: utf8('other'), challengePeer: true })
  q.lac.call(q.clock.now)
  q.run(1000)
  // The LAC checks the SCCRP's response first: StopCCN Result Code 4, the LNS tears its half-open tunnel down.
  assert.deepEqual(q.lacEvents.map((e) => e.type === 'closed' ? e.reason : e.type), ['sessionDown', 'tunnel-authentication-failed'])
  assert.deepEqual(types(q.lnsEvents), ['closed'])
})

test('§5.1.1 an LNS Challenge to a LAC without a secret: the LAC refuses with StopCCN Result Code 4', () => {
  const p = new Pair({}, { secret: utf8('x'), challengePeer: true })
  p.lac.call(p.clock.now)
  p.run(1000)
  assert.deepEqual(p.lacEvents.map((e) => e.type === 'closed' ? e.reason : e.type), ['sessionDown', 'tunnel-authentication-failed'])
  assert.deepEqual(p.lnsEvents, [{ type: 'closed', reason: 'peer-stopccn result 4', message: 'peer-stopccn result 4' }])
})

test('§5.8 30% loss and reordering: the set-up still completes, every message once', () => {
  let s = 0x1234567
  const rand = (): number => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s % 10 }
  const p = new Pair()
  p.lose = () => rand() < 3
  p.lac.call(p.clock.now)
  p.run(60_000)
  assert.deepEqual([types(p.lacEvents), types(p.lnsEvents)], [['tunnelUp', 'sessionUp'], ['tunnelUp', 'sessionUp']])
  assert.ok((p.lac.channelCounters()['tx-retransmit'] ?? 0) + (p.lns.channelCounters()['tx-retransmit'] ?? 0) > 0, 'losses were repaired by retransmission')
})

test('§6.5 + §5.8 an LNS that goes silent: HELLO after 60 s, five retransmissions, the tunnel and its call are cleared', () => {
  const p = new Pair()
  p.lac.call(p.clock.now)
  p.run(1000)
  p.lnsDead = true
  const t0 = p.clock.now
  p.run(120_000)
  const closed = p.lacEvents.find((e) => e.type === 'closed')
  assert.deepEqual(closed, { type: 'closed', reason: 'peer-silent', message: 'peer-silent' })
  assert.deepEqual(types(p.lacEvents), ['tunnelUp', 'sessionUp', 'sessionDown', 'closed'])
  assert.equal(p.lac.channelCounters()['tx-hello'], 1)
  assert.ok(p.clock.now - t0 >= 60_000 + 31_000)
})

test('L2tpLacEndpoint + L2tpLnsListener: the client and gateway cores as DatagramCores, end to end', async () => {
  const { L2tpLacEndpoint } = await import('../../src/l2tp/lac-tunnel.js')
  const { L2tpLnsListener } = await import('../../src/l2tp/lns-listener.js')
  const clock = new ManualClock()
  const gw = { address: '198.18.0.254', port: 1701 }, me = { address: '198.18.0.1', port: 1701 }
  const gwFrames: string[] = [], myFrames: string[] = []
  const listener = new L2tpLnsListener({ rng: fixedRng(3), hostName: 'gw', onFrame: (_t, _s, f) => gwFrames.push(toHex(f)) })
  const client = new L2tpLacEndpoint(new L2tpLacTunnel(clock.now, { rng: fixedRng(4), tunnelId: 5, hostName: 'me' }), gw, (_s, f) => myFrames.push(toHex(f)))
  const sid = client.tunnel.call(clock.now)!
  const events: string[] = []
  let lnsCall: [number, number] | undefined
  for (let i = 0; i < 20; i++) {
    for (let t = client.pollTransmit(); t; t = client.pollTransmit()) listener.handleDatagram(clock.now, t.data, me)
    for (let t = listener.pollTransmit(); t; t = listener.pollTransmit()) { assert.deepEqual(t.to, me); client.handleDatagram(clock.now, t.data, gw) }
    for (let e = client.pollEvent(); e; e = client.pollEvent()) events.push(`lac:${e.type}`)
    for (let e = listener.pollEvent(); e; e = listener.pollEvent()) {
      events.push(`lns:${e.event.type}`)
      if (e.event.type === 'sessionUp') lnsCall = [e.tunnelId, e.event.sessionId]
    }
  }
  assert.deepEqual(events.sort(), ['lac:sessionUp', 'lac:tunnelUp', 'lns:sessionUp', 'lns:tunnelUp'])
  const out = client.encodeFrame(sid, fromHex('c0210101'))!
  listener.handleDatagram(clock.now, out.data, me)
  assert.deepEqual(gwFrames, ['c0210101'])
  const back = listener.encodeFrame(lnsCall![0], lnsCall![1], fromHex('c0210201'))!
  client.handleDatagram(clock.now, back.data, { address: '198.18.0.9', port: 1701 })
  assert.equal(client.tunnel.counters.get('rx-wrong-peer'), 1)
  assert.deepEqual(myFrames, [])
  client.handleDatagram(clock.now, back.data, gw)
  assert.deepEqual(myFrames, ['c0210201'])
})

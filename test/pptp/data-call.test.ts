// PptpDataCall pair (RFC 2637 §4 enhanced GRE carrying RFC 1661 PPP, RFC 3078/3079 MPPE): a server
// and a client data call back to back in memory with a manual clock, over a lossy, reordering wire.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeGre, encodeGre } from '../../src/pptp/gre/packet.js'
import { decodeFrame, encodeFrame } from '../../src/ppp/frame.js'
import type { MppePolicy } from '../../src/ppp/ccp/policy.js'
import type { PppEvent } from '../../src/ppp/types.js'
import { bytesEqual, fromHex } from '../../src/lib/bytes.js'
import { verify } from '../ppp/pair-harness.js'
import { CLIENT_CALL_ID, CLIENT_MPPE, CallPair, SERVER_CALL_ID, down, indexOf, protocols, up, type PairOptions } from './call-pair.js'
function upPair(o: PairOptions = {}): CallPair {
  const p = new CallPair(o)
  p.open()
  p.run(1_000)
  assert.ok(p.up(), JSON.stringify({ s: p.serverEvents, c: p.clientEvents, sc: p.server.counters(), cc: p.client.counters() }))
  return p
}

/** Sends `n` packets each way in bursts of `burst`, `gapMs` apart, firing timers between bursts. */
function traffic(p: CallPair, n: number, burst = 10, gapMs = 20): { sentUp: number; sentDown: number } {
  let sentUp = 0, sentDown = 0
  for (let i = 0; i < n; i++) {
    if (p.client.sendIp(up(i))) sentUp++
    if (p.server.sendIp(down(i))) sentDown++
    if (i % burst === burst - 1) { p.pump(); p.run(gapMs) }
  }
  p.run(1_000)
  return { sentUp, sentDown }
}

/** Every delivered packet is one we sent, unchanged, and indices only increase (§4.3: never out of order). */
function assertIntactInOrder(got: readonly Uint8Array[], make: (i: number) => Uint8Array): void {
  let last = -1
  for (const g of got) {
    const i = indexOf(g)
    assert.ok(i > last, `packet ${i} after ${last}`)
    assert.ok(bytesEqual(g, make(i)), `packet ${i} altered`)
    last = i
  }
}

test('comes up: both sides up, addresses agreed, MPPE on; the wire never carries 0x0021, IP goes as 0x00FD', () => {
  const p = upPair()
  const su = p.serverEvents.find((e) => e.type === 'up'), cu = p.clientEvents.find((e) => e.type === 'up')
  assert.ok(su?.type === 'up' && cu?.type === 'up')
  assert.equal(cu.localAddress, '198.19.0.10')
  assert.equal(cu.peerAddress, '198.19.0.1')
  assert.deepEqual(p.serverEvents.filter((e) => e.type !== 'ip').map((e) => e.type), ['authRequest', 'authenticated', 'up'])
  traffic(p, 5)
  const wire = [...protocols(p.toServer.log), ...protocols(p.toClient.log)]
  // LCP, MS-CHAPv2, CCP (RFC 1962), IPCP all rode GRE; IP only as MPPE (RFC 3078 §3).
  for (const proto of [0xc021, 0xc223, 0x80fd, 0x8021, 0x00fd]) assert.ok(wire.includes(proto), `protocol 0x${proto.toString(16)} on the wire`)
  assert.ok(!wire.includes(0x0021), 'plaintext IPv4 on the wire')
  // Every GRE packet is addressed with the receiver's Call ID (§4.1).
  assert.ok(p.toServer.log.every((g) => decodeGre(g).callId === SERVER_CALL_ID))
  assert.ok(p.toClient.log.every((g) => decodeGre(g).callId === CLIENT_CALL_ID))
  assert.equal(p.serverIp.length, 5)
  assert.equal(p.clientIp.length, 5)
})

test('the gateway answers AAA later than the GRE ack delay: the Success still goes out at once', () => {
  // pptp-listener hands the verdict to data.ppp.handleAuthResult and then drains pollDatagram():
  // the MS-CHAPv2 Success must not wait in the PPP session for the next timer.
  const p = new CallPair()
  const pending: PppEvent[] = []
  p.server.open(p.clock.now); p.client.open(p.clock.now)
  for (let i = 0; i < 50 && pending.length === 0; i++) {
    for (let d = p.server.pollDatagram(); d; d = p.server.pollDatagram()) p.client.gre.handlePacket(p.clock.now, d)
    p.client.afterReceive(p.clock.now)
    for (let d = p.client.pollDatagram(); d; d = p.client.pollDatagram()) p.server.gre.handlePacket(p.clock.now, d)
    p.server.afterReceive(p.clock.now)
    for (let e = p.server.pollEvent(); e; e = p.server.pollEvent()) if (e.type === 'authRequest') pending.push(e)
    for (let e = p.client.pollEvent(); e; e = p.client.pollEvent()) void e
  }
  const req = pending[0]
  assert.ok(req?.type === 'authRequest')
  // AAA takes 500 ms (a RADIUS round trip); meanwhile the GRE ack-only timer fires.
  p.clock.advance(500)
  p.server.handleTimeout(p.clock.now)
  for (let d = p.server.pollDatagram(); d; d = p.server.pollDatagram()) void d
  p.server.ppp.handleAuthResult(p.clock.now, verify(req.proof))
  const out: number[] = []
  for (let d = p.server.pollDatagram(); d; d = p.server.pollDatagram()) { const g = decodeGre(d); if (g.payload.length) out.push(decodeFrame(g.payload).protocol) }
  assert.ok(out.includes(0xc223), `MS-CHAPv2 Success sent with the verdict (got ${out.map((x) => x.toString(16))})`)
})

test('200 IP packets each way arrive intact and in order', () => {
  const p = upPair()
  const { sentUp, sentDown } = traffic(p, 200)
  assert.equal(sentUp, 200); assert.equal(sentDown, 200)
  assert.equal(p.serverIp.length, 200)
  assert.equal(p.clientIp.length, 200)
  assertIntactInOrder(p.serverIp, up)
  assertIntactInOrder(p.clientIp, down)
  const sc = p.server.counters(), cc = p.client.counters()
  assert.equal(sc['ppp.ipPacketsIn'], 200); assert.equal(cc['ppp.ipPacketsIn'], 200)
  assert.equal(sc['gre.tx:over-window'], undefined, 'acks kept the window open')
  assert.ok(!Object.keys(sc).some((k) => k.includes('drop')), JSON.stringify(sc))
  assert.ok(!Object.keys(cc).some((k) => k.includes('drop')), JSON.stringify(cc))
  assert.ok(!protocols([...p.toServer.log, ...p.toClient.log]).includes(0x0021))
})

test('one-way traffic: the receiver acks alone after the ack delay (§4.2), so the sender\'s window stays open', () => {
  const p = upPair()
  for (let i = 0; i < 300; i++) { assert.ok(p.client.sendIp(up(i))); p.pump(); p.run(1) }
  p.run(1_000)
  assert.equal(p.serverIp.length, 300)
  assert.ok((p.server.counters()['gre.tx:ack-only'] ?? 0) > 0)
  assert.equal(p.client.counters()['gre.tx:over-window'], undefined)
  assert.equal(p.client.counters()['gre.outstanding'], 0)
})

for (const mode of ['stateless', 'stateful'] as const) {
  test(`${mode} MPPE: 5% loss and reordering of GRE packets: the link stays up, every delivered packet is intact and in order`, () => {
    const clientMppe: MppePolicy = mode === 'stateless' ? CLIENT_MPPE : { required: true, keyBits: [128], stateless: 'refused' }
    const p = upPair({ clientMppe, seed: mode === 'stateless' ? 11 : 23 })
    for (const c of [p.server, p.client]) {
      // The negotiated mode, read the way a debugger would (the session exposes it only by behaviour).
      const ccp = (c.ppp as unknown as { ccp: { negotiated?: { stateless: boolean } } }).ccp
      assert.equal(ccp.negotiated?.stateless, mode === 'stateless')
    }
    for (const w of [p.toServer, p.toClient]) { w.loss = 0.05; w.reorder = 0.05 }
    traffic(p, 400, 10, mode === 'stateless' ? 20 : 100)
    for (const w of [p.toServer, p.toClient]) { w.loss = 0; w.reorder = 0 }
    // Quiet wire again: a last burst gets through completely (stateful: once resynchronised).
    const before = { s: p.serverIp.length, c: p.clientIp.length }
    for (let i = 400; i < 420; i++) { p.client.sendIp(up(i)); p.server.sendIp(down(i)); p.pump() }
    p.run(5_000)
    for (let i = 420; i < 430; i++) { p.client.sendIp(up(i)); p.server.sendIp(down(i)); p.pump() }
    p.run(1_000)

    assert.equal(p.down('server'), undefined); assert.equal(p.down('client'), undefined)
    assert.equal(p.server.ppp.phase, 'network'); assert.equal(p.client.ppp.phase, 'network')
    assert.ok(p.toServer.dropped > 5 && p.toClient.dropped > 5 && p.toServer.swapped > 5 && p.toClient.swapped > 5)
    assertIntactInOrder(p.serverIp, up)
    assertIntactInOrder(p.clientIp, down)
    // Stateless loses only what the wire lost. Stateful discards from a loss until a flushed
    // packet (§8.2): the rest of each burst, and a whole second of traffic when the Reset-Request
    // itself is lost (it is repeated after 1 s, as pppd's RACKTIMEOUT): so only a floor there.
    const min = mode === 'stateless' ? 350 : 80
    for (const got of [p.serverIp, p.clientIp]) {
      assert.ok(got.length > min, `${got.length} delivered ${JSON.stringify([p.server.counters(), p.client.counters()])}`)
      assert.deepEqual(got.slice(-10).map(indexOf), [420, 421, 422, 423, 424, 425, 426, 427, 428, 429])
    }
    assert.ok(p.serverIp.length - before.s >= 20 - 3 && p.clientIp.length - before.c >= 20 - 3)
    const sc = p.server.counters(), cc = p.client.counters()
    // GRE put swapped packets back in order and named the gaps it gave up (§4.3).
    for (const c of [sc, cc]) { assert.ok((c['gre.reordered'] ?? 0) > 0, JSON.stringify(c)); assert.ok((c['gre.lost'] ?? 0) > 0, JSON.stringify(c)) }
    if (mode === 'stateless') {
      // §7.1: each packet carries its own key change; the receiver skips the lost counts.
      for (const c of [sc, cc]) assert.ok((c['ppp.mppe.gap'] ?? 0) > 0, JSON.stringify(c))
    } else {
      // §8.2: loss -> discard + CCP Reset-Request -> the sender flushes -> resynchronised.
      for (const c of [sc, cc]) {
        assert.ok((c['ppp.ccp.reset-request-sent'] ?? 0) > 0, JSON.stringify(c))
        assert.ok((c['ppp.mppe.resync'] ?? 0) > 0, JSON.stringify(c))
      }
      assert.ok((sc['ppp.ccp.reset-request-received'] ?? 0) > 0 && (cc['ppp.ccp.reset-request-received'] ?? 0) > 0)
    }
    assert.ok(!protocols([...p.toServer.log, ...p.toClient.log]).includes(0x0021))
  })
}

test('wrong password: both sides go down with auth-failed, no up, no IP', () => {
  const p = new CallPair({ password: 'wrong' })
  p.open()
  p.run(20_000)
  const s = p.down('server'), c = p.down('client')
  assert.ok(s?.type === 'down' && s.reason === 'auth-failed', JSON.stringify(p.serverEvents))
  assert.ok(c?.type === 'down' && c.reason === 'auth-failed', JSON.stringify(p.clientEvents))
  assert.ok(!p.has('server', 'up') && !p.has('client', 'up'))
  assert.equal(p.server.sendIp(down(0)), false)
  assert.equal(p.client.sendIp(up(0)), false)
  assert.equal(p.server.counters()['ppp.auth-failure.bad-credentials'], 1)
  assert.ok(!protocols(p.toServer.log).includes(0x80fd), 'no CCP before authentication')
})

test('lowerDown on the server (Call-Clear): it goes down at once and counts later GRE as drop:closed; the client ends on echo timeout', () => {
  const p = upPair()
  p.server.lowerDown(p.clock.now, 'peer-cleared', 'call cleared')
  assert.ok(p.server.isEnded)
  p.pump()
  assert.deepEqual(p.down('server'), { type: 'down', reason: 'peer-cleared', message: 'call cleared' })
  assert.equal(p.server.sendIp(down(0)), false)
  assert.equal(p.server.nextTimeout(), undefined)
  assert.ok(p.client.sendIp(up(0)))
  p.pump()
  assert.equal(p.serverIp.length, 0)
  assert.equal(p.server.counters()['gre.drop:closed'], 1)
  // Nothing told the client (that is the control connection's job): LCP echoes go unanswered.
  p.run(60_000)
  const c = p.down('client')
  assert.ok(c?.type === 'down' && c.reason === 'echo-timeout', JSON.stringify(p.clientEvents))
  assert.ok((p.server.counters()['gre.drop:closed'] ?? 0) > 1)
})

test('lowerDown on the client: the client is down at once; close() on the server then ends with a Terminate that goes nowhere', () => {
  const p = upPair()
  p.client.lowerDown(p.clock.now, 'control-closed', 'TCP reset')
  p.pump()
  assert.deepEqual(p.down('client'), { type: 'down', reason: 'control-closed', message: 'TCP reset' })
  assert.equal(p.client.sendIp(up(0)), false)
  p.server.close(p.clock.now, 'admin', 'bye')
  p.run(30_000)
  // RFC 1661 §4.6: Terminate-Request repeated Max-Terminate times, then down without an answer.
  const s = p.down('server')
  assert.ok(s?.type === 'down' && s.reason === 'admin', JSON.stringify(p.serverEvents))
  const terms = p.toClient.log.filter((g) => { const d = decodeGre(g); return d.payload.length > 0 && decodeFrame(d.payload).protocol === 0xc021 && decodeFrame(d.payload).info[0] === 5 })
  assert.equal(terms.length, 2)
  assert.equal(p.client.counters()['gre.drop:closed'], 2)
})

test('counters name drops: malformed GRE, a wrong Call ID, a replayed packet, plaintext IP on an MPPE link, junk MPPE', () => {
  const p = upPair()
  p.client.sendIp(up(1))
  const pkt = p.client.pollDatagram()!
  p.server.gre.handlePacket(p.clock.now, pkt)
  p.server.gre.handlePacket(p.clock.now, pkt) // replay
  p.server.gre.handlePacket(p.clock.now, fromHex('3001880b0000')) // 6 bytes: short header
  p.server.gre.handlePacket(p.clock.now, fromHex('2001880b00000000')) // K set, no S, no A (§4.1)
  p.server.gre.handlePacket(p.clock.now, encodeGre({ callId: 0x7777, sequenceNumber: 1000, acknowledgmentNumber: undefined, payload: fromHex('ff03c0210901000400000000') }))
  // A plaintext IPv4 frame and a junk MPPE frame in valid GRE with the next sequence numbers.
  const seq = decodeGre(pkt).sequenceNumber!
  const plain = encodeFrame(0x0021, up(2))
  p.server.gre.handlePacket(p.clock.now, encodeGre({ callId: SERVER_CALL_ID, sequenceNumber: seq + 1, acknowledgmentNumber: undefined, payload: plain }))
  p.server.gre.handlePacket(p.clock.now, encodeGre({ callId: SERVER_CALL_ID, sequenceNumber: seq + 2, acknowledgmentNumber: undefined, payload: fromHex('00fd9001') }))
  p.server.afterReceive(p.clock.now)
  p.pump()
  assert.equal(p.serverIp.length, 1)
  assert.ok(bytesEqual(p.serverIp[0]!, up(1)))
  const c = p.server.counters()
  assert.equal(c['gre.drop:duplicate'], 1)
  assert.equal(c['gre.drop:malformed:gre.header'], 1)
  assert.equal(c['gre.drop:malformed:gre.A'], 1)
  assert.equal(c['gre.drop:wrong-call-id'], 1)
  assert.equal(c['ppp.drop.plaintext-with-mppe'], 1)
  assert.equal(c['ppp.mppe.drop.short'], 1)
  assert.equal(p.server.ppp.phase, 'network')
})

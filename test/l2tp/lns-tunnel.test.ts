// The LNS tunnel core against a scripted LAC (our ControlChannel + hand-built messages): RFC 2661 §5.1
// tunnel establishment with and without §5.1.1 authentication, §5.2.1 incoming call, the data path,
// §5.7 CDN/StopCCN, unknown mandatory AVPs (§4.1), a silent peer (§5.8), hostile bytes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { L2tpLnsTunnel } from '../../src/l2tp/lns-tunnel.js'
import type { LnsTunnelEvent, LnsTunnelOptions } from '../../src/l2tp/tunnel-types.js'
import { ControlChannel } from '../../src/l2tp/control/channel.js'
import { decodeL2tp, encodeData } from '../../src/l2tp/header.js'
import type { ControlHeader } from '../../src/l2tp/header.js'
import { decodeControlBody, encodeControlBody } from '../../src/l2tp/avp/codec.js'
import type { ControlMessage } from '../../src/l2tp/avp/codec.js'
import type { AvpFields } from '../../src/l2tp/avp/table.js'
import { MessageType, PROTOCOL_VERSION } from '../../src/l2tp/avp/constants.js'
import { challengeResponse } from '../../src/l2tp/auth.js'
import { fromHex, toHex, utf8 } from '../../src/lib/bytes.js'
import { ManualClock, fixedRng } from '../helpers/clock.js'

type Body = Partial<AvpFields> & { messageType: number }

class Lac {
  readonly clock = new ManualClock()
  readonly ch = new ControlChannel(this.clock.now, { helloInterval: 0 })
  readonly lns: L2tpLnsTunnel
  readonly got: { header: number; m: ControlMessage }[] = []
  readonly events: LnsTunnelEvent[] = []
  constructor(opts: Partial<LnsTunnelOptions> = {}) {
    this.lns = new L2tpLnsTunnel(this.clock.now, { rng: fixedRng(), tunnelId: 0x4242, hostName: 'gatehouse', ...opts })
  }
  send(sessionId: number, body: Body | Uint8Array): void {
    this.ch.send(this.clock.now, sessionId, body instanceof Uint8Array ? body : encodeControlBody(body))
    this.flush()
  }
  flush(): void {
    for (let i = 0; i < 100; i++) {
      let moved = false
      for (let dg = this.ch.pollTransmit(); dg; dg = this.ch.pollTransmit()) { this.lns.handleDatagram(this.clock.now, dg); moved = true }
      for (let dg = this.lns.pollTransmit(); dg; dg = this.lns.pollTransmit()) {
        const p = decodeL2tp(dg)
        assert.equal(p.header.type, 'control')
        this.ch.handleMessage(this.clock.now, p.header as ControlHeader, p.payload); moved = true
      }
      for (let d = this.ch.pollDelivered(); d; d = this.ch.pollDelivered()) this.got.push({ header: d.sessionId, m: decodeControlBody(d.body, { secret: utf8('s3cret') }) })
      for (let e = this.lns.pollEvent(); e; e = this.lns.pollEvent()) this.events.push(e)
      if (!moved) return
    }
  }
  /** Runs both sides' timers for `ms`. */
  run(ms: number): void {
    const end = this.clock.now + ms
    for (;;) {
      this.flush()
      const ts = [this.ch.nextTimeout(), this.lns.nextTimeout()].filter((t): t is number => t !== undefined && t <= end)
      if (ts.length === 0) break
      this.clock.now = Math.max(this.clock.now, Math.min(...ts))
      this.ch.handleTimeout(this.clock.now); this.lns.handleTimeout(this.clock.now)
    }
    this.clock.now = end
    this.flush()
  }
  last(): ControlMessage { return this.got[this.got.length - 1]!.m }
  sccrq(extra: Partial<AvpFields> = {}): void {
    this.send(0, { messageType: MessageType.SCCRQ, protocolVersion: PROTOCOL_VERSION, hostName: 'lac', framingCapabilities: 1, assignedTunnelId: 77, receiveWindowSize: 4, ...extra })
  }
  /** SCCRQ, SCCRP, SCCCN, ICRQ, ICRP, ICCN: returns our (LNS) Session ID. */
  connect(): number {
    this.sccrq()
    this.ch.setPeerTunnelId(this.last().fields.assignedTunnelId!)
    this.send(0, { messageType: MessageType.SCCCN })
    this.send(0, { messageType: MessageType.ICRQ, assignedSessionId: 5, callSerialNumber: 1 })
    const sid = this.last().fields.assignedSessionId!
    this.send(sid, { messageType: MessageType.ICCN, txConnectSpeed: 10_000_000, framingType: 1 })
    return sid
  }
}

test('§5.1/§5.2.1 SCCRQ -> SCCRP -> SCCCN -> tunnelUp; ICRQ -> ICRP -> ICCN -> sessionUp; PPP frames both ways', () => {
  const l = new Lac()
  l.sccrq({ vendorName: 'Microsoft' })
  const sccrp = l.last()
  assert.equal(sccrp.messageType, MessageType.SCCRP)
  assert.deepEqual([sccrp.fields.assignedTunnelId, sccrp.fields.hostName, sccrp.fields.framingCapabilities, sccrp.fields.challenge], [0x4242, 'gatehouse', 3, undefined])
  l.ch.setPeerTunnelId(0x4242)
  l.send(0, { messageType: MessageType.SCCCN })
  assert.deepEqual(l.events, [{ type: 'tunnelUp', peerTunnelId: 77, peerHostName: 'lac', peerVendorName: 'Microsoft', peerFramingCapabilities: 1 }])
  l.send(0, { messageType: MessageType.ICRQ, assignedSessionId: 5, callSerialNumber: 1, callingNumber: '198.18.0.2' })
  assert.equal(l.last().messageType, MessageType.ICRP)
  assert.equal(l.got[l.got.length - 1]!.header, 5, 'ICRP goes to the LAC\'s session (§5.3)')
  const sid = l.last().fields.assignedSessionId!
  assert.notEqual(sid, 0)
  l.send(sid, { messageType: MessageType.ICCN, txConnectSpeed: 10_000_000, framingType: 1, sequencingRequired: true })
  assert.deepEqual(l.events[1], { type: 'sessionUp', sessionId: sid, peerSessionId: 5, callSerialNumber: 1, txConnectSpeed: 10_000_000, framingType: 1, sequencing: true, callingNumber: '198.18.0.2', calledNumber: undefined })
  const frame = fromHex('ff03c021010100040000')
  l.lns.handleDatagram(l.clock.now, encodeData({ tunnelId: 0x4242, sessionId: sid }, frame))
  const f = l.lns.pollFrame()
  assert.deepEqual([f?.sessionId, toHex(f!.frame)], [sid, toHex(frame)])
  assert.equal(l.lns.pollFrame(), undefined)
  const out = decodeL2tp(l.lns.encodeFrame(sid, frame)!)
  assert.deepEqual([out.header.tunnelId, out.header.sessionId, out.header.ns, toHex(out.payload)], [77, 5, 0, toHex(frame)])
  assert.equal(decodeL2tp(l.lns.encodeFrame(sid, frame)!).header.ns, 1, '§5.4 Ns counts when sequencing is required')
  assert.equal(l.lns.encodeFrame(999, frame), undefined)
  // Data for an unknown session is counted and dropped.
  l.lns.handleDatagram(l.clock.now, encodeData({ tunnelId: 0x4242, sessionId: 999 }, frame))
  assert.equal(l.lns.counters.get('rx-data-unknown-session'), 1)
})

test('§5.7 CDN from the LAC ends the call; StopCCN ends the tunnel, acknowledged, then lingers', () => {
  const l = new Lac()
  const sid = l.connect()
  l.events.length = 0
  l.send(sid, { messageType: MessageType.CDN, resultCode: { result: 3 }, assignedSessionId: 5 })
  assert.deepEqual(l.events, [{ type: 'sessionDown', sessionId: sid, reason: 'peer-cdn', result: { result: 3 } }])
  const sid2 = (l.send(0, { messageType: MessageType.ICRQ, assignedSessionId: 6, callSerialNumber: 2 }), l.last().fields.assignedSessionId!)
  l.send(sid2, { messageType: MessageType.ICCN, txConnectSpeed: 1, framingType: 1 })
  l.events.length = 0
  l.send(0, { messageType: MessageType.StopCCN, assignedTunnelId: 77, resultCode: { result: 1 } })
  assert.deepEqual(l.events.map((e) => e.type), ['sessionDown', 'closed'], '§6.4 sessions cleared without CDN')
  l.run(1000)
  assert.equal(l.ch.unacknowledged, 0, '§5.7 the StopCCN is acknowledged (ZLB)')
  assert.equal(l.lns.done, false)
  l.run(31_000)
  assert.equal(l.lns.done, true)
  assert.equal(l.lns.nextTimeout(), undefined)
})

test('§5.1.1 the LNS answers the LAC\'s Challenge (MD5 with ID 2) and challenges back; a wrong SCCCN response is refused', () => {
  const secret = utf8('s3cret')
  const l = new Lac({ secret, challengePeer: true })
  const chal = fromHex('00112233445566778899aabbccddeeff')
  l.sccrq({ challenge: chal })
  const sccrp = l.last()
  assert.equal(toHex(sccrp.fields.challengeResponse!), toHex(challengeResponse(2, secret, chal)))
  assert.equal(sccrp.fields.challenge?.length, 16)
  l.ch.setPeerTunnelId(0x4242)
  l.send(0, { messageType: MessageType.SCCCN, challengeResponse: challengeResponse(3, utf8('wrong'), sccrp.fields.challenge!) })
  assert.equal(l.last().messageType, MessageType.StopCCN)
  assert.deepEqual(l.last().fields.resultCode, { result: 4, error: 0, message: 'tunnel authentication failed' })
  assert.deepEqual(l.events.map((e) => e.type), ['closed'])

  const ok = new Lac({ secret, challengePeer: true })
  ok.sccrq()
  ok.ch.setPeerTunnelId(0x4242)
  ok.send(0, { messageType: MessageType.SCCCN, challengeResponse: challengeResponse(3, secret, ok.last().fields.challenge!) })
  assert.deepEqual(ok.events.map((e) => e.type), ['tunnelUp'])
})

test('§5.1.1 an SCCRQ with a Challenge to an LNS without a secret gets StopCCN Result Code 4 at the peer\'s tunnel', () => {
  const l = new Lac()
  l.sccrq({ challenge: fromHex('01') })
  assert.equal(l.last().messageType, MessageType.StopCCN)
  assert.equal(l.last().fields.resultCode?.result, 4)
  assert.equal(l.last().fields.assignedTunnelId, 0x4242, '§4.4.3 our Assigned Tunnel ID, the first we sent')
})

test('§4.1 an unknown mandatory AVP in an ICRQ refuses that call (CDN 2/8); in a HELLO it clears the tunnel', () => {
  const l = new Lac()
  l.connect()
  const icrq = toHex(encodeControlBody({ messageType: MessageType.ICRQ, assignedSessionId: 9, callSerialNumber: 3 }))
  l.send(0, fromHex(icrq + '8008 0000 00fe 0000'))
  assert.equal(l.last().messageType, MessageType.CDN)
  assert.equal(l.got[l.got.length - 1]!.header, 9)
  assert.deepEqual([l.last().fields.resultCode?.result, l.last().fields.resultCode?.error], [2, 8])
  assert.equal(l.lns.established, true)
  l.send(0, fromHex('8008 0000 0000 0006 8008 0000 00fe 0000'))
  assert.equal(l.last().messageType, MessageType.StopCCN)
  assert.deepEqual([l.last().fields.resultCode?.result, l.last().fields.resultCode?.error], [2, 8])
  assert.equal(l.events[l.events.length - 1]?.type, 'closed')
})

test('§4.1 a CDN with an unknown mandatory AVP still ends the call and is not answered with a CDN', () => {
  const l = new Lac()
  const sid = l.connect()
  const n = l.got.length
  l.send(sid, fromHex(toHex(encodeControlBody({ messageType: MessageType.CDN, resultCode: { result: 1 }, assignedSessionId: 5 })) + '8008 0000 00fe 0000'))
  assert.equal(l.got.length, n, 'nothing sent back but the acknowledgment')
  assert.deepEqual(l.events[l.events.length - 1], { type: 'sessionDown', sessionId: sid, reason: 'unknown-mandatory-avp', result: { result: 1 } })
})

test('§4.3 hidden AVPs in an ICRQ are revealed with the tunnel secret', () => {
  const secret = utf8('s3cret')
  const l = new Lac({ secret })
  l.sccrq(); l.ch.setPeerTunnelId(0x4242); l.send(0, { messageType: MessageType.SCCCN })
  l.send(0, encodeControlBody({ messageType: MessageType.ICRQ, assignedSessionId: 0x0102, callSerialNumber: 4 }, { hide: ['assignedSessionId'], secret, randomVector: fromHex('a5a5') }))
  assert.equal(l.got[l.got.length - 1]!.header, 0x0102)
})

test('§5.0 a call message before the tunnel is established clears the control connection', () => {
  const l = new Lac()
  l.sccrq()
  l.ch.setPeerTunnelId(0x4242)
  l.send(0, { messageType: MessageType.ICRQ, assignedSessionId: 5, callSerialNumber: 1 })
  assert.equal(l.last().messageType, MessageType.StopCCN)
  assert.equal(l.last().fields.resultCode?.result, 7)
})

test('§5.8 a LAC that goes silent after SCCRQ: SCCRP retransmitted, then the tunnel is cleared', () => {
  const l = new Lac()
  l.sccrq()
  const lns = l.lns
  const sent: number[] = []
  for (let t = lns.nextTimeout(); t !== undefined && !lns.done; t = lns.nextTimeout()) {
    l.clock.now = t; lns.handleTimeout(t)
    for (let dg = lns.pollTransmit(); dg; dg = lns.pollTransmit()) sent.push(decodeL2tp(dg).payload.length)
    for (let e = lns.pollEvent(); e; e = lns.pollEvent()) l.events.push(e)
  }
  assert.equal(sent.filter((n) => n > 0).length, 5, 'five retransmissions of the SCCRP')
  assert.deepEqual(l.events.map((e) => e.type === 'closed' && e.reason), ['peer-silent'])
})

test('hostile bytes: garbage, wrong tunnel IDs and malformed bodies are counted, never thrown', () => {
  const l = new Lac()
  l.lns.handleDatagram(l.clock.now, fromHex('c803'))
  l.lns.handleDatagram(l.clock.now, fromHex('c803 000c 0001 0000 0000 0000'))
  assert.equal(l.lns.counters.get('malformed:l2tp.header'), 1)
  l.lns.handleDatagram(l.clock.now, fromHex('c802000c 0001 0000 0000 0000'))
  assert.equal(l.lns.counters.get('malformed:l2tp.Ver'), 1)
  assert.equal(l.lns.counters.get('rx-wrong-tunnel-id'), 1)
  // A malformed first message (AVP length past the body) clears the would-be tunnel silently: no peer ID yet.
  l.send(0, fromHex('8008 0000 0000 0001 80ff 0000'))
  assert.equal(l.lns.counters.get('malformed:avp.length'), 1)
  assert.deepEqual(l.events.map((e) => e.type), ['closed'])
})

// PAC <-> PNS in memory on a ManualClock (RFC 2637 §3): control up, calls up with matching IDs both ways, several
// calls per connection, Set-Link-Info, echo keep-alive (§2.5), call clear (§2.12/2.13), PAC hang-up, stop (§2.3/2.4).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CallDisconnectResult, ControlMessageType as T, StopCtlReason } from '../../src/pptp/control/constants.js'
import { Pair } from './harness.js'

function up(): Pair { const p = new Pair(); p.pump(); return p }

test('pair: SCCRQ/SCCRP bring the control connection up on both sides; one call comes up with crossed IDs', () => {
  const p = up()
  assert.equal(p.toPac[0]?.type, T.StartControlConnectionRequest)
  const sccrp = p.toPns[0]
  assert.ok(sccrp?.type === T.StartControlConnectionReply && sccrp.resultCode === 1 && sccrp.protocolVersion === 0x0100)
  assert.equal(p.pac.currentState, 'established')
  assert.equal(p.pns.currentState, 'established')
  assert.deepEqual(p.pacEvents[0], { type: 'controlUp', peerHostName: 'client', peerVendorString: 'Gatehouse', peerFirmwareRevision: 1 })
  assert.equal(p.pnsEvents[0]?.type, 'controlUp')
  const a = p.pacEvents.find((e) => e.type === 'callUp'), b = p.pnsEvents.find((e) => e.type === 'callUp')
  assert.ok(a?.type === 'callUp' && b?.type === 'callUp')
  assert.equal(a.callId, b.peerCallId)
  assert.equal(a.peerCallId, b.callId)
  assert.notEqual(a.callId, 0)
  assert.equal(a.peerReceiveWindow, 64)
  assert.equal(b.peerReceiveWindow, 64)
  // §2.8: the reply's Peer's Call ID echoes the request's Call ID.
  const ocrq = p.toPac.find((m) => m.type === T.OutgoingCallRequest), ocrp = p.toPns.find((m) => m.type === T.OutgoingCallReply)
  assert.ok(ocrq?.type === T.OutgoingCallRequest && ocrp?.type === T.OutgoingCallReply)
  assert.equal(ocrp.peerCallId, ocrq.callId)
  assert.equal(ocrp.resultCode, 1)
  assert.equal(p.pac.callState(a.callId), 'established')
  assert.equal(p.pns.callState(b.callId), 'established')
})

test('pair: several calls on one control connection get distinct IDs, each matched both ways', () => {
  const p = up()
  const ids = [p.pns.openCall(p.clock.now), p.pns.openCall(p.clock.now), p.pns.openCall(p.clock.now)]
  p.pump()
  const pacUp = p.pacEvents.filter((e) => e.type === 'callUp'), pnsUp = p.pnsEvents.filter((e) => e.type === 'callUp')
  assert.equal(pacUp.length, 4)
  assert.equal(pnsUp.length, 4)
  assert.equal(new Set(pacUp.map((e) => e.type === 'callUp' && e.callId)).size, 4)
  assert.equal(new Set(pnsUp.map((e) => e.type === 'callUp' && e.callId)).size, 4)
  for (const id of ids) {
    const n = pnsUp.find((e) => e.type === 'callUp' && e.callId === id)
    assert.ok(n?.type === 'callUp')
    const a = pacUp.find((e) => e.type === 'callUp' && e.callId === n.peerCallId)
    assert.ok(a?.type === 'callUp' && a.peerCallId === id)
  }
  assert.equal(p.pac.callCount, 4)
})

test('pair: Set-Link-Info reaches the PAC as setLinkInfo for the right call (§2.15)', () => {
  const p = up()
  const n = p.pnsEvents.find((e) => e.type === 'callUp')
  assert.ok(n?.type === 'callUp')
  p.pns.sendSetLinkInfo(n.callId, 0, 0xffffffff)
  p.pump()
  assert.deepEqual(p.pacEvents.at(-1), { type: 'setLinkInfo', callId: n.peerCallId, sendAccm: 0, receiveAccm: 0xffffffff })
  assert.deepEqual(p.pac.linkInfo(n.peerCallId), { sendAccm: 0, receiveAccm: 0xffffffff })
})

test('pair: §2.5 echo after 60 s idle, answered with the same Identifier; the connection stays up', () => {
  const p = up()
  p.advance(59_999)
  assert.equal(p.toPac.filter((m) => m.type === T.EchoRequest).length, 0)
  p.advance(1)
  const req = p.toPac.find((m) => m.type === T.EchoRequest), rep = p.toPns.find((m) => m.type === T.EchoReply)
  assert.ok(req?.type === T.EchoRequest && rep?.type === T.EchoReply)
  assert.equal(rep.identifier, req.identifier)
  p.advance(10 * 60_000)
  assert.equal(p.pac.currentState, 'established')
  assert.equal(p.pns.currentState, 'established')
  assert.ok(p.toPac.filter((m) => m.type === T.EchoRequest).length >= 5)
})

test('pair: Call-Clear-Request -> Call-Disconnect-Notify (Result 4 Request) with the PAC Call ID; callDown both sides', () => {
  const p = up()
  const n = p.pnsEvents.find((e) => e.type === 'callUp')
  assert.ok(n?.type === 'callUp')
  p.pns.clearCall(p.clock.now, n.callId)
  assert.equal(p.pns.callState(n.callId), 'wait_disconnect')
  p.pump()
  const ccrq = p.toPac.at(-1), cdn = p.toPns.at(-1)
  assert.ok(ccrq?.type === T.CallClearRequest && ccrq.callId === n.callId)
  assert.ok(cdn?.type === T.CallDisconnectNotify && cdn.callId === n.peerCallId && cdn.resultCode === CallDisconnectResult.Request)
  assert.deepEqual(p.pacEvents.at(-1), { type: 'callDown', callId: n.peerCallId, reason: 'peer-cleared' })
  assert.deepEqual(p.pnsEvents.at(-1), { type: 'callDown', callId: n.callId, reason: 'peer-cleared' })
  assert.equal(p.pac.callCount, 0)
  assert.equal(p.pns.callCount, 0)
  assert.equal(p.pac.currentState, 'established')
})

test('pair: PAC hang-up sends CDN (Admin Shutdown); the PNS reports callDown; other calls stay', () => {
  const p = up()
  const second = p.pns.openCall(p.clock.now)
  p.pump()
  const n = p.pnsEvents.find((e) => e.type === 'callUp')
  assert.ok(n?.type === 'callUp')
  p.pac.hangupCall(p.clock.now, n.peerCallId, 'ppp-down')
  p.pump()
  const cdn = p.toPns.at(-1)
  assert.ok(cdn?.type === T.CallDisconnectNotify && cdn.resultCode === CallDisconnectResult.AdminShutdown)
  assert.deepEqual(p.pacEvents.at(-1), { type: 'callDown', callId: n.peerCallId, reason: 'ppp-down' })
  assert.equal(p.pnsEvents.at(-1)?.type, 'callDown')
  assert.equal(p.pns.callState(second!), 'established')
})

test('pair: stop — calls go down, StopCCRQ (Stop-Local-Shutdown) / StopCCRP, closed exactly once on both sides', () => {
  const p = up()
  p.pns.close(p.clock.now, 'admin', 'user quit')
  assert.equal(p.pns.currentState, 'wait_stop_reply')
  p.pump()
  const stop = p.toPac.at(-1)
  assert.ok(stop?.type === T.StopControlConnectionRequest && stop.reason === StopCtlReason.StopLocalShutdown)
  assert.ok(p.toPns.at(-1)?.type === T.StopControlConnectionReply)
  const pnsTail = p.pnsEvents.slice(-2), pacTail = p.pacEvents.slice(-2)
  assert.equal(pnsTail[0]?.type, 'callDown')
  assert.deepEqual(pnsTail[1], { type: 'closed', reason: 'admin', message: 'user quit' })
  assert.equal(pacTail[0]?.type, 'callDown')
  assert.equal(pacTail[1]?.type, 'closed')
  assert.equal(p.pac.currentState, 'closed')
  assert.equal(p.pns.currentState, 'closed')
  p.pns.handleEof(p.clock.now); p.pac.handleEof(p.clock.now); p.pump()
  assert.equal(p.pacEvents.filter((e) => e.type === 'closed').length, 1)
  assert.equal(p.pnsEvents.filter((e) => e.type === 'closed').length, 1)
  assert.equal(p.pns.nextTimeout(), undefined)
})

test('pair: a stop that is never answered closes after the reply timer', () => {
  const p = up()
  p.pns.close(p.clock.now, 'admin', 'bye')
  p.pns.pollTransmit() // lost
  p.advance(59_999)
  assert.equal(p.pns.currentState, 'wait_stop_reply')
  p.advance(1)
  assert.equal(p.pns.currentState, 'closed')
  assert.deepEqual(p.pnsEvents.at(-1), { type: 'closed', reason: 'admin', message: 'bye' })
})

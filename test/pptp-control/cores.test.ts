// PAC and PNS cores against hand-fed and hostile input (RFC 2637 §2, §3): version refusal, violations closing only
// that connection, unknown Call IDs dropped and counted, duplicate and surplus calls refused, echo timeout, and
// fast-check random bytes never throwing with 'closed' emitted at most once.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { concatBytes } from '../../src/lib/bytes.js'
import { fixedRng } from '../helpers/clock.js'
import { ControlMessageType as T, GeneralErrorCode, IncomingCallResult, OutgoingCallResult, StartCtlResult } from '../../src/pptp/control/constants.js'
import { encodeControlMessage } from '../../src/pptp/control/messages.js'
import type { PptpControlMessage } from '../../src/pptp/control/messages.js'
import { PptpPacConnection } from '../../src/pptp/control/pac-connection.js'
import { PptpPnsConnection } from '../../src/pptp/control/pns-connection.js'
import { drainEvents, drainTx } from './harness.js'

const T0 = 1_000_000
const sccrq = (v = 0x0100): PptpControlMessage => ({ type: T.StartControlConnectionRequest, protocolVersion: v, framingCapabilities: 2, bearerCapabilities: 3, maximumChannels: 0, firmwareRevision: 1, hostName: 'peer', vendorString: 'v' })
const ocrq = (callId: number): PptpControlMessage => ({ type: T.OutgoingCallRequest, callId, callSerialNumber: 1, minimumBps: 0, maximumBps: 0, bearerType: 3, framingType: 3, packetRecvWindowSize: 16, packetProcessingDelay: 0, phoneNumberLength: 0, phoneNumber: '', subaddress: '' })
const feed = (c: { handleBytes(n: number, b: Uint8Array): void }, ...m: PptpControlMessage[]): void => c.handleBytes(T0, concatBytes(...m.map(encodeControlMessage)))

function pacUp(opts: { maxCalls?: number } = {}): PptpPacConnection {
  const pac = new PptpPacConnection({ rng: fixedRng(3), ...opts })
  feed(pac, sccrq())
  drainTx(pac); drainEvents(pac)
  return pac
}

test('PAC: SCCRQ with protocol version 2.0 -> SCCRP Result 5 (version not supported), then closed', () => {
  const pac = new PptpPacConnection({ rng: fixedRng(3) })
  feed(pac, sccrq(0x0200))
  const tx = drainTx(pac)
  assert.ok(tx[0]?.type === T.StartControlConnectionReply && tx[0].resultCode === StartCtlResult.ProtocolVersionNotSupported)
  assert.equal(drainEvents(pac).at(-1)?.type, 'closed')
  assert.equal(pac.currentState, 'closed')
})

test('PAC: a call message before Start-Control-Connection is a violation; closed without a Stop (not established)', () => {
  const pac = new PptpPacConnection({ rng: fixedRng(3) })
  feed(pac, ocrq(5))
  assert.deepEqual(drainTx(pac), [])
  assert.deepEqual(drainEvents(pac), [{ type: 'closed', reason: 'protocol-error', message: 'unexpected OutgoingCallRequest in idle' }])
  assert.equal(pac.counters()['violation:OutgoingCallRequest in idle'], 1)
})

test('PAC: a message only a PAC sends (OCRP) is a violation: StopCCRQ, calls down, wait_stop_reply', () => {
  const pac = pacUp()
  feed(pac, ocrq(5))
  const ev0 = drainEvents(pac)
  assert.equal(ev0[0]?.type, 'callUp')
  drainTx(pac)
  feed(pac, { type: T.OutgoingCallReply, callId: 1, peerCallId: 1, resultCode: 1, errorCode: 0, causeCode: 0, connectSpeed: 0, packetRecvWindowSize: 0, packetProcessingDelay: 0, physicalChannelId: 0 })
  assert.equal(drainTx(pac)[0]?.type, T.StopControlConnectionRequest)
  assert.equal(drainEvents(pac)[0]?.type, 'callDown')
  assert.equal(pac.currentState, 'wait_stop_reply')
  feed(pac, { type: T.StopControlConnectionReply, resultCode: 1, errorCode: 0 })
  assert.deepEqual(drainEvents(pac), [{ type: 'closed', reason: 'protocol-error', message: 'unexpected OutgoingCallReply on the PAC' }])
})

test('PAC: CCRQ and SLI with unknown Call IDs are dropped and counted; the call stays up', () => {
  const pac = pacUp()
  feed(pac, ocrq(5))
  const up = drainEvents(pac)[0]
  assert.ok(up?.type === 'callUp')
  drainTx(pac)
  feed(pac, { type: T.CallClearRequest, callId: 6 }, { type: T.SetLinkInfo, peerCallId: up.callId ^ 1, sendAccm: 0, receiveAccm: 0 })
  assert.deepEqual(drainTx(pac), [])
  assert.deepEqual(drainEvents(pac), [])
  assert.equal(pac.counters()['drop:ccrq-unknown-call-id'], 1)
  assert.equal(pac.counters()['drop:sli-unknown-call-id'], 1)
  assert.equal(pac.callState(up.callId), 'established')
})

test('PAC: a second OCRQ with the same PNS Call ID is refused (General Error, Bad-Call ID) without harming the first', () => {
  const pac = pacUp()
  feed(pac, ocrq(5)); drainTx(pac); drainEvents(pac)
  feed(pac, ocrq(5))
  const r = drainTx(pac)[0]
  assert.ok(r?.type === T.OutgoingCallReply && r.resultCode === OutgoingCallResult.GeneralError && r.errorCode === GeneralErrorCode.BadCallId && r.peerCallId === 5)
  assert.deepEqual(drainEvents(pac), [])
  assert.equal(pac.callCount, 1)
})

test('PAC: calls beyond maxCalls are refused with No-Resource; Call IDs are never 0 and unique', () => {
  const pac = pacUp({ maxCalls: 3 })
  for (let i = 1; i <= 4; i++) feed(pac, ocrq(i))
  const replies = drainTx(pac).filter((m) => m.type === T.OutgoingCallReply)
  assert.deepEqual(replies.map((m) => m.type === T.OutgoingCallReply && m.resultCode), [1, 1, 1, 2])
  const last = replies[3]
  assert.ok(last?.type === T.OutgoingCallReply && last.errorCode === GeneralErrorCode.NoResource)
  const ids = replies.slice(0, 3).map((m) => m.type === T.OutgoingCallReply && m.callId)
  assert.equal(new Set(ids).size, 3)
  assert.ok(!ids.includes(0))
})

test('PAC: echo keep-alive — Echo-Request after 60 s of silence, closed 60 s later without a reply', () => {
  const pac = pacUp()
  assert.equal(pac.nextTimeout(), T0 + 60_000)
  pac.handleTimeout(T0 + 60_000)
  const req = drainTx(pac)[0]
  assert.ok(req?.type === T.EchoRequest)
  pac.handleTimeout(T0 + 119_999)
  assert.equal(pac.currentState, 'established')
  pac.handleTimeout(T0 + 120_000)
  assert.equal(pac.currentState, 'closed')
  assert.deepEqual(drainEvents(pac).at(-1), { type: 'closed', reason: 'echo-timeout', message: 'no Echo-Reply within 60000 ms' })
})

test('PAC: an Echo-Reply with another Identifier is counted as unmatched; any message still restarts the idle timer', () => {
  const pac = pacUp()
  pac.handleTimeout(T0 + 60_000)
  const req = drainTx(pac)[0]
  assert.ok(req?.type === T.EchoRequest)
  pac.handleBytes(T0 + 61_000, encodeControlMessage({ type: T.EchoReply, identifier: (req.identifier + 1) >>> 0, resultCode: 1, errorCode: 0 }))
  assert.equal(pac.counters()['drop:echo-reply-unmatched'], 1)
  // Any control message shows the peer is alive and restarts the idle timer (§2.5): a fresh Echo-Request follows.
  pac.handleTimeout(T0 + 120_000)
  assert.equal(pac.currentState, 'established')
  pac.handleTimeout(T0 + 121_000)
  const again = drainTx(pac)[0]
  assert.ok(again?.type === T.EchoRequest && again.identifier !== req.identifier)
})

test('PAC: a wrong Magic Cookie closes the connection at once, counted, nothing sent', () => {
  const pac = pacUp()
  const b = encodeControlMessage({ type: T.EchoRequest, identifier: 1 }); b[5] = 0
  pac.handleBytes(T0, b)
  assert.deepEqual(drainTx(pac), [])
  assert.equal(drainEvents(pac)[0]?.type, 'closed')
  assert.equal(pac.counters()['framing:pptp.magicCookie'], 1)
  pac.handleBytes(T0, b)
  assert.equal(pac.counters()['drop:after-close'], 1)
})

test('PNS: SCCRQ sent at construction; a refusing SCCRP closes with the result named', () => {
  const pns = new PptpPnsConnection({ rng: fixedRng(4) }, T0)
  assert.equal(drainTx(pns)[0]?.type, T.StartControlConnectionRequest)
  feed(pns, { type: T.StartControlConnectionReply, protocolVersion: 0x100, resultCode: StartCtlResult.RequesterNotAuthorized, errorCode: 0, framingCapabilities: 0, bearerCapabilities: 0, maximumChannels: 0, firmwareRevision: 0, hostName: '', vendorString: '' })
  assert.deepEqual(drainEvents(pns), [{ type: 'closed', reason: 'refused', message: 'Start-Control-Connection-Reply result 4 error 0' }])
})

test('PNS: no SCCRP within the reply timer closes with timeout; a call with no OCRP is cleared, then dropped', () => {
  const pns = new PptpPnsConnection({ rng: fixedRng(4) }, T0)
  pns.handleTimeout(T0 + 60_000)
  assert.equal(drainEvents(pns).at(-1)?.type, 'closed')
  const pns2 = new PptpPnsConnection({ rng: fixedRng(4), keepaliveIdleMs: 600_000 }, T0)
  feed(pns2, { type: T.StartControlConnectionReply, protocolVersion: 0x100, resultCode: 1, errorCode: 0, framingCapabilities: 0, bearerCapabilities: 0, maximumChannels: 0, firmwareRevision: 0, hostName: '', vendorString: '' })
  const tx = drainTx(pns2)
  const q = tx.at(-1)
  assert.ok(q?.type === T.OutgoingCallRequest)
  pns2.handleTimeout(T0 + 60_000)
  assert.ok(drainTx(pns2).some((m) => m.type === T.CallClearRequest && m.callId === q.callId))
  assert.equal(pns2.callState(q.callId), 'wait_disconnect')
  pns2.handleTimeout(T0 + 120_000)
  assert.deepEqual(drainEvents(pns2).at(-1), { type: 'callDown', callId: q.callId, reason: 'timeout' })
  assert.equal(pns2.currentState, 'established')
})

test('PNS: an Incoming-Call-Request is refused with ICRP Do Not Accept (§2.10), counted', () => {
  const pns = new PptpPnsConnection({ rng: fixedRng(4), autoCall: false }, T0)
  feed(pns, { type: T.StartControlConnectionReply, protocolVersion: 0x100, resultCode: 1, errorCode: 0, framingCapabilities: 0, bearerCapabilities: 0, maximumChannels: 0, firmwareRevision: 0, hostName: '', vendorString: '' })
  drainTx(pns)
  feed(pns, { type: T.IncomingCallRequest, callId: 77, callSerialNumber: 0, callBearerType: 0, physicalChannelId: 0, dialedNumberLength: 0, dialingNumberLength: 0, dialedNumber: '', dialingNumber: '', subaddress: '' })
  const r = drainTx(pns)[0]
  assert.ok(r?.type === T.IncomingCallReply && r.peerCallId === 77 && r.resultCode === IncomingCallResult.DoNotAccept)
  assert.equal(pns.counters()['refused:incoming-call'], 1)
})

test('property: random bytes (alone or after a valid start) never throw; closed at most once; nothing after closed', () => {
  const prefix = encodeControlMessage(sccrq())
  fc.assert(fc.property(fc.boolean(), fc.boolean(), fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 6 }), (pacSide, withPrefix, chunks) => {
    const core = pacSide ? new PptpPacConnection({ rng: fixedRng(5) }) : new PptpPnsConnection({ rng: fixedRng(5) }, T0)
    if (withPrefix && pacSide) core.handleBytes(T0, prefix)
    let t = T0
    for (const c of chunks) { core.handleBytes(t, c); t += 30_000; core.handleTimeout(t) }
    core.handleEof(t)
    const ev = drainEvents(core)
    assert.equal(ev.filter((e) => e.type === 'closed').length, 1)
    assert.equal(ev.at(-1)?.type, 'closed')
    assert.equal(core.counters()['internal-error'], undefined)
  }), { numRuns: 1500 })
})

test('property: valid messages of every type in random order never throw or hit an internal error', () => {
  const any: PptpControlMessage[] = [sccrq(), ocrq(1), ocrq(2), { type: T.CallClearRequest, callId: 1 }, { type: T.EchoRequest, identifier: 1 }, { type: T.StopControlConnectionRequest, reason: 1 },
    { type: T.SetLinkInfo, peerCallId: 1, sendAccm: 0, receiveAccm: 0 }, { type: T.CallDisconnectNotify, callId: 1, resultCode: 1, errorCode: 0, causeCode: 0, callStatistics: new Uint8Array(0) },
    { type: T.StartControlConnectionReply, protocolVersion: 0x100, resultCode: 1, errorCode: 0, framingCapabilities: 0, bearerCapabilities: 0, maximumChannels: 0, firmwareRevision: 0, hostName: '', vendorString: '' },
    { type: T.OutgoingCallReply, callId: 9, peerCallId: 1, resultCode: 1, errorCode: 0, causeCode: 0, connectSpeed: 0, packetRecvWindowSize: 0, packetProcessingDelay: 0, physicalChannelId: 0 },
    { type: T.WanErrorNotify, peerCallId: 1, crcErrors: 0, framingErrors: 0, hardwareOverruns: 0, bufferOverruns: 0, timeoutErrors: 0, alignmentErrors: 0 }]
  fc.assert(fc.property(fc.boolean(), fc.array(fc.integer({ min: 0, max: any.length - 1 }), { maxLength: 12 }), (pacSide, seq) => {
    const core = pacSide ? new PptpPacConnection({ rng: fixedRng(6) }) : new PptpPnsConnection({ rng: fixedRng(6) }, T0)
    for (const i of seq) feed(core, any[i]!)
    core.handleEof(T0)
    const ev = drainEvents(core)
    assert.equal(ev.filter((e) => e.type === 'closed').length, 1)
    assert.equal(core.counters()['internal-error'], undefined)
  }), { numRuns: 1500 })
})

test('PAC: a shared Call ID allocator keeps IDs unique across connections, is released on call end, and refusal when empty', () => {
  const free = [11, 12]
  const released: number[] = []
  const callIds = { allocate: (): number | undefined => free.shift(), release: (id: number): void => { released.push(id) } }
  const a = new PptpPacConnection({ rng: fixedRng(7), callIds }), b = new PptpPacConnection({ rng: fixedRng(7), callIds })
  feed(a, sccrq(), ocrq(1)); feed(b, sccrq(), ocrq(1), ocrq(2))
  const ra = drainTx(a).filter((m) => m.type === T.OutgoingCallReply), rb = drainTx(b).filter((m) => m.type === T.OutgoingCallReply)
  assert.deepEqual(ra.map((m) => m.type === T.OutgoingCallReply && [m.callId, m.resultCode]), [[11, 1]])
  assert.deepEqual(rb.map((m) => m.type === T.OutgoingCallReply && [m.callId, m.resultCode]), [[12, 1], [0, OutgoingCallResult.GeneralError]])
  assert.equal(b.counters()['refused:no-call-id'], 1)
  feed(a, { type: T.CallClearRequest, callId: 1 })
  b.handleEof(T0)
  assert.deepEqual(released.sort(), [11, 12])
})

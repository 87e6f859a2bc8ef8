// RFC 2637 §1.4 header and §2.1–2.15 control messages: golden bytes built by hand from the RFC diagrams, lengths per
// type, fatal header errors, and fast-check properties (round trip; decoders throw only DecodeError).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { fromHex, toHex } from '../../src/lib/bytes.js'
import { DecodeError } from '../../src/lib/errors.js'
import { ControlMessageType as T } from '../../src/pptp/control/constants.js'
import { PPTP_MAX_MESSAGE_LENGTH, PPTP_MESSAGE_LENGTHS, decodeControlMessage, encodeControlMessage } from '../../src/pptp/control/messages.js'
import type { PptpControlMessage } from '../../src/pptp/control/messages.js'

const hx = (s: string): Uint8Array => fromHex(s)
/** A 64-octet NUL-padded string field (§2.1 "padded with nulls"). */
const s64 = (s: string): string => Buffer.from(s, 'latin1').toString('hex').padEnd(128, '0')
const zeros = (n: number): string => '00'.repeat(n)
/** Header: Length, PPTP Message Type 1, Magic Cookie 0x1A2B3C4D, Control Message Type, Reserved0 (§1.4). */
const hdr = (len: number, type: number): string => `${len.toString(16).padStart(4, '0')} 0001 1a2b3c4d ${type.toString(16).padStart(4, '0')} 0000`

const golden: readonly (readonly [string, PptpControlMessage, string])[] = [
  ['§2.1 Start-Control-Connection-Request', { type: T.StartControlConnectionRequest, protocolVersion: 0x0100, framingCapabilities: 3, bearerCapabilities: 3, maximumChannels: 0, firmwareRevision: 1, hostName: 'local', vendorString: 'cananian' },
    `${hdr(156, 1)} 0100 0000 00000003 00000003 0000 0001 ${s64('local')} ${s64('cananian')}`],
  ['§2.2 Start-Control-Connection-Reply', { type: T.StartControlConnectionReply, protocolVersion: 0x0100, resultCode: 1, errorCode: 0, framingCapabilities: 1, bearerCapabilities: 1, maximumChannels: 1, firmwareRevision: 0x0200, hostName: 'pac', vendorString: 'Gatehouse' },
    `${hdr(156, 2)} 0100 01 00 00000001 00000001 0001 0200 ${s64('pac')} ${s64('Gatehouse')}`],
  ['§2.3 Stop-Control-Connection-Request', { type: T.StopControlConnectionRequest, reason: 3 }, `${hdr(16, 3)} 03 00 0000`],
  ['§2.4 Stop-Control-Connection-Reply', { type: T.StopControlConnectionReply, resultCode: 2, errorCode: 6 }, `${hdr(16, 4)} 02 06 0000`],
  ['§2.5 Echo-Request', { type: T.EchoRequest, identifier: 0xdeadbeef }, `${hdr(16, 5)} deadbeef`],
  ['§2.6 Echo-Reply', { type: T.EchoReply, identifier: 0x01020304, resultCode: 1, errorCode: 0 }, `${hdr(20, 6)} 01020304 01 00 0000`],
  ['§2.7 Outgoing-Call-Request', { type: T.OutgoingCallRequest, callId: 0x1234, callSerialNumber: 7, minimumBps: 2400, maximumBps: 10_000_000, bearerType: 3, framingType: 3, packetRecvWindowSize: 64, packetProcessingDelay: 0, phoneNumberLength: 4, phoneNumber: '5551', subaddress: '' },
    `${hdr(168, 7)} 1234 0007 00000960 00989680 00000003 00000003 0040 0000 0004 0000 ${s64('5551')} ${zeros(64)}`],
  ['§2.8 Outgoing-Call-Reply', { type: T.OutgoingCallReply, callId: 0x0101, peerCallId: 0x1234, resultCode: 1, errorCode: 0, causeCode: 0, connectSpeed: 10_000_000, packetRecvWindowSize: 64, packetProcessingDelay: 0, physicalChannelId: 0 },
    `${hdr(32, 8)} 0101 1234 01 00 0000 00989680 0040 0000 00000000`],
  ['§2.9 Incoming-Call-Request', { type: T.IncomingCallRequest, callId: 9, callSerialNumber: 1, callBearerType: 2, physicalChannelId: 5, dialedNumberLength: 3, dialingNumberLength: 0, dialedNumber: '123', dialingNumber: '', subaddress: 'x' },
    `${hdr(220, 9)} 0009 0001 00000002 00000005 0003 0000 ${s64('123')} ${zeros(64)} ${s64('x')}`],
  ['§2.10 Incoming-Call-Reply', { type: T.IncomingCallReply, callId: 0, peerCallId: 9, resultCode: 3, errorCode: 0, packetRecvWindowSize: 0, packetTransmitDelay: 0 },
    `${hdr(24, 10)} 0000 0009 03 00 0000 0000 0000`],
  ['§2.11 Incoming-Call-Connected', { type: T.IncomingCallConnected, peerCallId: 0x55aa, connectSpeed: 64000, packetRecvWindowSize: 16, packetTransmitDelay: 2, framingType: 2 },
    `${hdr(28, 11)} 55aa 0000 0000fa00 0010 0002 00000002`],
  ['§2.12 Call-Clear-Request', { type: T.CallClearRequest, callId: 0x1234 }, `${hdr(16, 12)} 1234 0000`],
  ['§2.13 Call-Disconnect-Notify', { type: T.CallDisconnectNotify, callId: 0x0101, resultCode: 4, errorCode: 0, causeCode: 0, callStatistics: new Uint8Array(128) },
    `${hdr(148, 13)} 0101 04 00 0000 0000 ${zeros(128)}`],
  ['§2.14 WAN-Error-Notify', { type: T.WanErrorNotify, peerCallId: 0x1234, crcErrors: 1, framingErrors: 2, hardwareOverruns: 3, bufferOverruns: 4, timeoutErrors: 5, alignmentErrors: 6 },
    `${hdr(40, 14)} 1234 0000 00000001 00000002 00000003 00000004 00000005 00000006`],
  ['§2.15 Set-Link-Info', { type: T.SetLinkInfo, peerCallId: 0x0101, sendAccm: 0xffffffff, receiveAccm: 0 }, `${hdr(24, 15)} 0101 0000 ffffffff 00000000`],
]

for (const [name, msg, hex] of golden) {
  test(`codec: ${name} golden bytes both ways`, () => {
    const bytes = hx(hex)
    assert.equal(toHex(encodeControlMessage(msg)), toHex(bytes))
    assert.deepEqual(decodeControlMessage(bytes), msg)
  })
}

test('codec: lengths per type are those of RFC 2637 §2.1–2.15; the largest is ICRQ (220)', () => {
  assert.deepEqual(PPTP_MESSAGE_LENGTHS, { 1: 156, 2: 156, 3: 16, 4: 16, 5: 16, 6: 20, 7: 168, 8: 32, 9: 220, 10: 24, 11: 28, 12: 16, 13: 148, 14: 40, 15: 24 })
  assert.equal(PPTP_MAX_MESSAGE_LENGTH, 220)
})

test('codec: §1.4 header errors are DecodeErrors naming the field', () => {
  const good = hx(`${hdr(16, 5)} 00000001`)
  const bad = (mutate: (b: Uint8Array) => void, field: string): void => {
    const b = good.slice(); mutate(b)
    assert.throws(() => decodeControlMessage(b), (e: unknown) => e instanceof DecodeError && e.field === field)
  }
  bad((b) => { b[7] = 0x4e }, 'pptp.magicCookie')
  bad((b) => { b[3] = 2 }, 'pptp.messageType') // Management messages are not accepted
  bad((b) => { b[1] = 20 }, 'pptp.length') // Echo-Request is 16 octets, not 20
  bad((b) => { b[9] = 16 }, 'pptp.controlMessageType')
  bad((b) => { b[9] = 0 }, 'pptp.controlMessageType')
  assert.throws(() => decodeControlMessage(good.subarray(0, 15)), DecodeError)
  // Reserved0 and reserved fields are ignored on receipt.
  const r = good.slice(); r[10] = 0xff
  assert.deepEqual(decodeControlMessage(r), { type: T.EchoRequest, identifier: 1 })
})

test('codec: a 64-octet string without NUL decodes whole; over-long strings are our error (RangeError)', () => {
  const name = 'h'.repeat(64)
  const m: PptpControlMessage = { type: T.StartControlConnectionRequest, protocolVersion: 0x100, framingCapabilities: 0, bearerCapabilities: 0, maximumChannels: 0, firmwareRevision: 0, hostName: name, vendorString: '' }
  assert.equal((decodeControlMessage(encodeControlMessage(m)) as typeof m).hostName, name)
  assert.throws(() => encodeControlMessage({ ...m, hostName: name + 'x' }), RangeError)
})

test('property: random bytes and mutated messages only ever throw DecodeError', () => {
  const all = golden.map(([, , h]) => hx(h))
  fc.assert(fc.property(fc.uint8Array({ maxLength: 240 }), (b) => {
    try { decodeControlMessage(b) } catch (e) { assert.ok(e instanceof DecodeError, String(e)) }
  }), { numRuns: 3000 })
  fc.assert(fc.property(fc.integer({ min: 0, max: all.length - 1 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (i, at, v) => {
    const b = all[i]!.slice(); b[at % b.length] = v
    try { decodeControlMessage(b) } catch (e) { assert.ok(e instanceof DecodeError, String(e)) }
  }), { numRuns: 3000 })
})

test('property: Echo-Request / Outgoing-Call-Reply / Set-Link-Info round-trip for any field values', () => {
  const u16 = fc.integer({ min: 0, max: 0xffff }), u32 = fc.integer({ min: 0, max: 0xffffffff }), u8 = fc.integer({ min: 0, max: 255 })
  fc.assert(fc.property(u32, u16, u16, u8, u8, u16, u32, (a, b, c, d, e, f, g) => {
    const msgs: PptpControlMessage[] = [
      { type: T.EchoRequest, identifier: a },
      { type: T.OutgoingCallReply, callId: b, peerCallId: c, resultCode: d, errorCode: e, causeCode: f, connectSpeed: g, packetRecvWindowSize: b, packetProcessingDelay: c, physicalChannelId: a },
      { type: T.SetLinkInfo, peerCallId: f, sendAccm: a, receiveAccm: g },
    ]
    for (const m of msgs) assert.deepEqual(decodeControlMessage(encodeControlMessage(m)), m)
  }))
})

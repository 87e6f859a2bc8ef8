// Golden bytes for SSTP packets and control messages ([MS-SSTP] §2.2.1–§2.2.17, §4.7) and decoder robustness.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { DecodeError } from '../../src/lib/errors.js'
import { decodePacketHeader, encodeDataPacket, encodeDataPacketInto } from '../../src/sstp/packet.js'
import { SstpAttribStatus, SstpAttributeId } from '../../src/sstp/attributes.js'
import type { SstpAttribute } from '../../src/sstp/attributes.js'
import { SstpMessageType, checkControlMessage, decodeControlPacket, encodeBareMessage, encodeControlPacket, encodeStatusMessage } from '../../src/sstp/messages.js'
import { hx, loadSstpVectors } from './load-vectors.js'

const v = loadSstpVectors<{ vectors: { name: string; callConnectRequest?: string; callConnectAck?: string; callConnected: string; nonce: string; certHash: string; compoundMac: string; hashProtocol: number }[] }>('crypto-binding')
const sha256 = v.vectors.find((x) => x.name === 'sha256')!

test('§4.7 Call Connect Request: encode gives the published bytes, decode gives Encapsulated Protocol PPP', () => {
  const bytes = encodeControlPacket({ messageType: SstpMessageType.CallConnectRequest, attributes: [{ attribute: 'encapsulatedProtocolId', protocolId: 1 }] })
  assert.deepEqual(bytes, hx(sha256.callConnectRequest!))
  assert.deepEqual(decodeControlPacket(bytes), { messageType: 1, attributes: [{ attribute: 'encapsulatedProtocolId', protocolId: 1 }] })
})

test('§4.7 Call Connect Ack with Crypto Binding Request (SHA256 only): encode/decode', () => {
  const nonce = hx(sha256.nonce)
  const bytes = encodeControlPacket({ messageType: SstpMessageType.CallConnectAck, attributes: [{ attribute: 'cryptoBindingRequest', hashBitmask: 2, nonce }] })
  assert.deepEqual(bytes, hx(sha256.callConnectAck!))
  const m = decodeControlPacket(bytes)
  assert.equal(m.messageType, 2)
  assert.deepEqual(m.attributes[0], { attribute: 'cryptoBindingRequest', hashBitmask: 2, nonce })
  assert.equal(checkControlMessage(m), undefined)
})

test('§4.7 Call Connected: decodes into the Crypto Binding fields and re-encodes to the same 112 bytes', () => {
  const bytes = hx(sha256.callConnected)
  const m = decodeControlPacket(bytes)
  const a = m.attributes[0]!
  assert.equal(a.attribute, 'cryptoBinding')
  if (a.attribute !== 'cryptoBinding') return
  assert.equal(a.hashProtocol, 2)
  assert.deepEqual(a.nonce, hx(sha256.nonce))
  assert.deepEqual(a.certHash, hx(sha256.certHash))
  assert.deepEqual(a.compoundMac, hx(sha256.compoundMac))
  assert.deepEqual(encodeControlPacket(m), bytes)
})

test('§2.2.12/§2.2.8 Call Connect Nak with Status Info, hand-built', () => {
  const bytes = encodeControlPacket({ messageType: SstpMessageType.CallConnectNak, attributes: [{ attribute: 'statusInfo', attribId: 1, status: SstpAttribStatus.ValueNotSupported, value: new Uint8Array([0, 1]) }] })
  // header 10 01 len=0x16 | type 0003 | count 0001 | attr 00 02 00 0E | reserved 000000 | attribId 01 | status 00000004 | value 0001
  assert.deepEqual(bytes, hx('10 01 00 16 00 03 00 01 00 02 00 0E 00 00 00 01 00 00 00 04 00 01'))
  assert.equal(checkControlMessage(decodeControlPacket(bytes)), undefined)
})

test('§2.2.13 Call Abort with one Status Info, §2.2.14–§2.2.17 bare messages, hand-built', () => {
  assert.deepEqual(encodeStatusMessage(SstpMessageType.CallAbort, SstpAttributeId.CryptoBinding, SstpAttribStatus.InvalidFrameReceived),
    hx('10 01 00 14 00 05 00 01 00 02 00 0C 00 00 00 03 00 00 00 07'))
  assert.deepEqual(encodeBareMessage(SstpMessageType.CallDisconnect), hx('10 01 00 08 00 06 00 00'))
  assert.deepEqual(encodeBareMessage(SstpMessageType.CallDisconnectAck), hx('10 01 00 08 00 07 00 00'))
  assert.deepEqual(encodeBareMessage(SstpMessageType.EchoRequest), hx('10 01 00 08 00 08 00 00'))
  assert.deepEqual(encodeBareMessage(SstpMessageType.EchoResponse), hx('10 01 00 08 00 09 00 00'))
})

test('§2.2.3 data packet: C = 0, length includes the header, PPP frame carried as is (FF 03 kept)', () => {
  const frame = hx('FF 03 C0 21 01 01 00 04')
  assert.deepEqual(encodeDataPacket(frame), hx('10 00 00 0C FF 03 C0 21 01 01 00 04'))
  const target = new Uint8Array(20).fill(0xee)
  assert.equal(encodeDataPacketInto(target, 3, frame), 12)
  assert.deepEqual(target.subarray(3, 15), hx('10 00 00 0C FF 03 C0 21 01 01 00 04'))
  assert.equal(target[2], 0xee)
  assert.equal(target[15], 0xee)
  assert.throws(() => encodeDataPacket(new Uint8Array(4092)), RangeError)
})

test('header: reserved bits ignored, version and minimum length enforced', () => {
  assert.deepEqual(decodePacketHeader(hx('10 FF F0 08')), { control: true, length: 8 })
  assert.throws(() => decodePacketHeader(hx('11 01 00 08')), DecodeError)
  assert.throws(() => decodePacketHeader(hx('10 01 00 03')), DecodeError)
  assert.throws(() => decodePacketHeader(hx('10 01 00')), DecodeError)
})

test('structural decode errors are DecodeError', () => {
  const bad = [
    '10 00 00 08 00 08 00 00', // C bit clear
    '10 01 00 09 00 08 00 00', // length says 9, packet is 8
    '10 01 00 0C 00 01 00 01 00 01 00 06', // attribute runs past the end
    '10 01 00 0E 00 01 00 01 00 01 00 07 00 01', // Encapsulated Protocol ID length 7 (MUST be 6)
    '10 01 00 0E 00 01 00 02 00 01 00 06 00 01', // Num Attributes 2 but only one present
    '10 01 00 10 00 01 00 01 00 01 00 06 00 01 00 00', // trailing bytes after the attributes
    '10 01 00 0C 00 01 00 01 00 01 00 02', // attribute length below 4
  ]
  for (const h of bad) assert.throws(() => decodeControlPacket(hx(h)), DecodeError, h)
})

test('message rules: missing, duplicate, not-allowed, unknown attributes and unknown message types', () => {
  const epid: SstpAttribute = { attribute: 'encapsulatedProtocolId', protocolId: 1 }
  const req: SstpAttribute = { attribute: 'cryptoBindingRequest', hashBitmask: 2, nonce: new Uint8Array(32) }
  assert.equal(checkControlMessage({ messageType: 1, attributes: [] })?.reason, 'required-attribute-missing')
  assert.equal(checkControlMessage({ messageType: 1, attributes: [epid, epid] })?.reason, 'duplicate-attribute')
  assert.equal(checkControlMessage({ messageType: 1, attributes: [epid, req] })?.reason, 'attribute-not-allowed')
  assert.equal(checkControlMessage({ messageType: 8, attributes: [epid] })?.status, SstpAttribStatus.AttribNotSupportedInMsg)
  assert.equal(checkControlMessage({ messageType: 1, attributes: [epid, { attribute: 'unknown', attributeId: 9, value: new Uint8Array(2) }] })?.reason, 'unknown-attribute')
  assert.equal(checkControlMessage({ messageType: 0x42, attributes: [] })?.reason, 'unknown-message-type')
  assert.equal(checkControlMessage({ messageType: 4, attributes: [] })?.attribId, SstpAttributeId.CryptoBinding)
  // an unknown attribute decodes (kept raw) so the rule step can name it
  const m = decodeControlPacket(hx('10 01 00 0E 00 01 00 01 00 09 00 06 AB CD'))
  assert.deepEqual(m.attributes[0], { attribute: 'unknown', attributeId: 9, value: hx('AB CD') })
})

test('property: decodeControlPacket only ever throws DecodeError', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (body, fixHeader) => {
    const b = body.slice()
    if (fixHeader && b.length >= 4) { b[0] = 0x10; b[1] = 1; b[2] = (b.length >> 8) & 0x0f; b[3] = b.length & 0xff }
    try { decodeControlPacket(b) } catch (e) { if (!(e instanceof DecodeError)) throw e }
  }), { numRuns: 3000 })
})

test('property: encode -> decode round trip for Abort/Disconnect/Nak with arbitrary status info', () => {
  fc.assert(fc.property(fc.constantFrom(3, 5, 6), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffffffff }), fc.uint8Array({ maxLength: 64 }), (type, attribId, status, value) => {
    const msg = { messageType: type, attributes: [{ attribute: 'statusInfo' as const, attribId, status, value }] }
    const bytes = encodeControlPacket(msg)
    assert.deepEqual(decodeControlPacket(bytes), msg)
    assert.equal(checkControlMessage(msg), undefined)
  }))
})

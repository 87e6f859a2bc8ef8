// RFC 2661 §4.1 AVP format, §4.4 table (lengths per type), §4.3 hidden AVPs (hand-computed vector),
// §4.4.1 Message Type first, §5.1.1 tunnel authentication (hand-computed vector).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeControlBody, decodeRawAvps, encodeControlBody } from '../../src/l2tp/avp/codec.js'
import { hideAvpValue, revealAvpValue } from '../../src/l2tp/avp/hidden.js'
import { AVP_TABLE } from '../../src/l2tp/avp/table.js'
import { AvpType, MessageType } from '../../src/l2tp/avp/constants.js'
import { challengeResponse, verifyChallengeResponse } from '../../src/l2tp/auth.js'
import { decodeL2tp, encodeControl } from '../../src/l2tp/header.js'
import { DecodeError } from '../../src/lib/errors.js'
import { fromHex, toHex, utf8 } from '../../src/lib/bytes.js'
import { loadL2tpVectors } from './load-vectors.js'

const hx = (s: string): string => s.replace(/\s+/g, '')
const isField = (field: string) => (e: unknown): boolean => e instanceof DecodeError && e.field === field

// An SCCRQ written by hand from the §4.1 diagram (M bit 0x8000 | Length), Vendor ID 0, §4.4 types,
// in the order our encoder emits (Message Type first, then table order).
const SCCRQ_BODY = hx(`
  8008 0000 0000 0001
  8008 0000 0002 0100
  800a 0000 0003 00000003
  8009 0000 0007 6c6163
  8008 0000 0009 0001
  8008 0000 000a 0004`)

test('§4.1/§6.1 SCCRQ body: golden bytes encode and decode', () => {
  const body = encodeControlBody({ messageType: MessageType.SCCRQ, protocolVersion: { version: 1, revision: 0 }, framingCapabilities: 3, hostName: 'lac', assignedTunnelId: 1, receiveWindowSize: 4 })
  assert.equal(toHex(body), SCCRQ_BODY)
  const m = decodeControlBody(fromHex(SCCRQ_BODY))
  assert.equal(m.messageType, MessageType.SCCRQ)
  assert.equal(m.messageTypeMandatory, true)
  assert.deepEqual(m.fields, { messageType: 1, protocolVersion: { version: 1, revision: 0 }, framingCapabilities: 3, hostName: 'lac', assignedTunnelId: 1, receiveWindowSize: 4 })
  // The whole datagram: header with Length 12 + 51 = 63 (0x3f), Tunnel ID 0 before assignment (§4.4.3).
  const dg = encodeControl({ tunnelId: 0, sessionId: 0, ns: 0, nr: 0 }, body)
  assert.equal(toHex(dg.subarray(0, 12)), 'c802003f0000000000000000')
  assert.equal(toHex(decodeL2tp(dg).payload), SCCRQ_BODY)
})

test('§4.4.2 Result Code: 2, 4 and more octets; M bit set; 3 octets refused', () => {
  const body = encodeControlBody({ messageType: MessageType.StopCCN, assignedTunnelId: 7, resultCode: { result: 2, error: 8, message: 'x' } })
  // Message Type 4; Result Code (type 1) = 0002 0008 78 (length 6+5 = 11); Assigned Tunnel ID 7.
  assert.equal(toHex(body), hx('8008 0000 0000 0004  800b 0000 0001 0002 0008 78  8008 0000 0009 0007'))
  const short = decodeControlBody(fromHex('8008000000000004 8008000000010001'))
  assert.deepEqual(short.fields.resultCode, { result: 1 })
  assert.throws(() => decodeControlBody(fromHex('8008000000000004 8009000000010001 00')), isField('avp.resultCode'))
})

test('§4.4 every row: a value one octet too short or too long is a DecodeError naming the AVP', () => {
  for (const spec of AVP_TABLE) {
    if (spec.name === 'messageType') continue
    const mk = (len: number): Uint8Array => {
      const avp = new Uint8Array(6 + len); avp[0] = 0x80 | ((6 + len) >> 8); avp[1] = (6 + len) & 0xff; avp[5] = spec.type
      return fromHex('8008000000000006' + toHex(avp))
    }
    if (spec.minLength > 0) assert.throws(() => decodeControlBody(mk(spec.minLength - 1)), isField(`avp.${spec.name}`), `${spec.name} short`)
    if (spec.maxLength < 1017) assert.throws(() => decodeControlBody(mk(spec.maxLength + 1)), isField(`avp.${spec.name}`), `${spec.name} long`)
    if (spec.name !== 'resultCode') assert.doesNotThrow(() => decodeControlBody(mk(spec.minLength)), spec.name)
  }
})

test('§4.1 AVP Length below 6 or past the body; trailing octets', () => {
  assert.throws(() => decodeRawAvps(fromHex('8005 0000 0000')), isField('avp.length'))
  assert.throws(() => decodeRawAvps(fromHex('8009 0000 0000 0001')), isField('avp.length'))
  assert.throws(() => decodeRawAvps(fromHex('8008 0000 0000 0001 80')), isField('avp.length'))
  assert.deepEqual(decodeRawAvps(new Uint8Array(0)), [])
})

test('§4.4.1 the Message Type AVP must come first, unhidden', () => {
  assert.throws(() => decodeControlBody(fromHex('8008 0000 0009 0001 8008 0000 0000 0001')), isField('avp.messageType'))
  assert.throws(() => decodeControlBody(new Uint8Array(0)), isField('avp.messageType'))
  assert.throws(() => decodeControlBody(fromHex('c008 0000 0000 0001')), isField('avp.messageType'))
})

test('§4.1 unrecognized AVPs (unknown type, vendor AVP, reserved bits set) are kept raw with their M bit', () => {
  const m = decodeControlBody(fromHex(hx(`8008 0000 0000 0006
    0008 0000 00ff 0000
    8008 0137 0001 0000
    8408 0000 0009 0001`)))
  assert.deepEqual(m.unrecognized.map((a) => [a.mandatory, a.vendorId, a.type, a.reserved]), [[false, 0, 255, 0], [true, 311, 1, 0], [true, 0, 9, 1]])
  assert.equal(m.fields.assignedTunnelId, undefined, 'reserved bits make it unrecognized (§4.1)')
})

type HiddenVectors = { secret: string; randomVector: string; vectors: { name: string; attributeType: number; value: string; hidden: string }[] }
const hv = loadL2tpVectors<HiddenVectors>('hidden-avp')

test(`§4.3 hidden AVP vectors (${hv.source.slice(0, 40)}…)`, () => {
  const secret = utf8(hv.secret), rv = fromHex(hv.randomVector)
  for (const v of hv.vectors) {
    assert.equal(toHex(hideAvpValue(v.attributeType, fromHex(v.value), secret, rv)), v.hidden, v.name)
    assert.equal(toHex(revealAvpValue(v.attributeType, fromHex(v.hidden), secret, rv)), v.value, v.name)
  }
})

test('§4.3 hidden AVPs in a message: Random Vector after Message Type, H bit set, revealed on decode', () => {
  const secret = utf8(hv.secret), rv = fromHex(hv.randomVector)
  const body = encodeControlBody({ messageType: MessageType.ICRQ, assignedSessionId: 0x1234, callSerialNumber: 9, callingNumber: '+1-555-0100-extension-42' },
    { hide: ['assignedSessionId', 'callingNumber'], secret, randomVector: rv })
  const [v0, v1] = hv.vectors
  assert.equal(toHex(body), hx(`8008 0000 0000 000a
    8016 0000 0024 ${hv.randomVector}
    c00a 0000 000e ${v0!.hidden}
    800a 0000 000f 00000009
    c020 0000 0016 ${v1!.hidden}`))
  const m = decodeControlBody(body, { secret })
  assert.equal(m.fields.assignedSessionId, 0x1234)
  assert.equal(m.fields.callingNumber, '+1-555-0100-extension-42')
  assert.deepEqual(m.hidden, ['assignedSessionId', 'callingNumber'])
  // Without the secret, or with the Random Vector removed, decoding refuses (§4.3).
  assert.throws(() => decodeControlBody(body), isField('avp.hidden'))
  const noRv = fromHex(toHex(body).replace(hx(`8016 0000 0024 ${hv.randomVector}`), ''))
  assert.throws(() => decodeControlBody(noRv, { secret }), isField('avp.randomVector'))
  // A wrong secret reveals garbage; the Length of Original Value then overruns (or the value is wrong).
  const wrong = (): unknown => decodeControlBody(body, { secret: utf8('other') }).fields.assignedSessionId
  try { assert.notEqual(wrong(), 0x1234) } catch (e) { assert.ok(e instanceof DecodeError) }
})

test('§4.3 a later Random Vector applies to the hidden AVPs after it', () => {
  const secret = utf8('s'), rv1 = fromHex('01'), rv2 = fromHex('0202')
  const a = hideAvpValue(AvpType.AssignedSessionId, fromHex('0005'), secret, rv1)
  const b = hideAvpValue(AvpType.CallSerialNumber, fromHex('00000006'), secret, rv2)
  const body = fromHex(hx(`8008 0000 0000 000a  8007 0000 0024 01  c00a 0000 000e ${toHex(a)}  8008 0000 0024 0202  c00c 0000 000f ${toHex(b)}`))
  const m = decodeControlBody(body, { secret })
  assert.equal(m.fields.assignedSessionId, 5)
  assert.equal(m.fields.callSerialNumber, 6)
})

test('§4.4 encoding refuses to hide an AVP the RFC keeps clear, and out-of-row values', () => {
  const o = { secret: utf8('s'), randomVector: fromHex('01') }
  assert.throws(() => encodeControlBody({ messageType: 1, hostName: 'h' }, { ...o, hide: ['hostName'] }), RangeError)
  assert.throws(() => encodeControlBody({ messageType: 1, hostName: '' }), RangeError)
  assert.throws(() => encodeControlBody({ messageType: 1, assignedTunnelId: 1 }, { hide: ['assignedTunnelId'] }), RangeError)
})

type ChallengeVectors = { secret: string; challenge: string; vectors: { messageType: number; response: string }[] }
const cv = loadL2tpVectors<ChallengeVectors>('challenge-response')

test(`§5.1.1 Challenge Response vectors (${cv.source.slice(0, 40)}…)`, () => {
  for (const v of cv.vectors) {
    const r = challengeResponse(v.messageType, utf8(cv.secret), fromHex(cv.challenge))
    assert.equal(toHex(r), v.response)
    assert.equal(verifyChallengeResponse(v.messageType, utf8(cv.secret), fromHex(cv.challenge), r), true)
    // §5.1.1: a mismatch "MUST be disallowed": other secret, other message type, truncated.
    assert.equal(verifyChallengeResponse(v.messageType, utf8('x'), fromHex(cv.challenge), r), false)
    assert.equal(verifyChallengeResponse(v.messageType ^ 1, utf8(cv.secret), fromHex(cv.challenge), r), false)
    assert.equal(verifyChallengeResponse(v.messageType, utf8(cv.secret), fromHex(cv.challenge), r.subarray(0, 15)), false)
  }
})

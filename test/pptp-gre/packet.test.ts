// Enhanced GRE codec, RFC 2637 §4.1: golden bytes written by hand from the §4.1 diagram, every
// rejected header field by name, round trips and "only DecodeError" properties.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { fromHex, toHex } from '../../src/lib/bytes.js'
import { DecodeError } from '../../src/lib/errors.js'
import { decodeGre, encodeGre, encodeGreHeaderInto, encodeGreInto, encodedGreLength } from '../../src/pptp/gre/packet.js'
import type { GrePacket } from '../../src/pptp/gre/packet.js'

// §4.1 by hand. Octet 0: C R K S s Recur = 0 0 1 1 0 000 = 0x30; octet 1: A Flags Ver = 1 0000 001 = 0x81;
// Protocol Type 88 0B; Key = Payload Length 0006 + Call ID 1234; Sequence 00000007; Ack 00000005;
// payload: PPP LCP Echo-Request start FF 03 C0 21 09 01.
const DATA_WITH_ACK = '3081880b 0006 1234 00000007 00000005 ff03c0210901'
// S=1, A=0: octet 1 = 0x01; no Acknowledgment Number.
const DATA_NO_ACK = '3001880b 0003 beef 00000000 ff0321'
// Ack-only (§4.1 S "Set to zero (0) if payload is not present"): K only, A=1, payload length 0.
const ACK_ONLY = '2081880b 0000 0001 fffffffe'

test('golden: data packet with sequence and piggybacked acknowledgment (§4.1)', () => {
  const p = decodeGre(fromHex(DATA_WITH_ACK))
  assert.equal(p.callId, 0x1234)
  assert.equal(p.sequenceNumber, 7)
  assert.equal(p.acknowledgmentNumber, 5)
  assert.equal(toHex(p.payload), 'ff03c0210901')
  assert.equal(toHex(encodeGre(p)), DATA_WITH_ACK.replace(/\s/g, ''))
})

test('golden: data packet without acknowledgment, and an ack-only packet (§4.1)', () => {
  const d = decodeGre(fromHex(DATA_NO_ACK))
  assert.deepEqual([d.callId, d.sequenceNumber, d.acknowledgmentNumber, toHex(d.payload)], [0xbeef, 0, undefined, 'ff0321'])
  assert.equal(toHex(encodeGre(d)), DATA_NO_ACK.replace(/\s/g, ''))
  const a = decodeGre(fromHex(ACK_ONLY))
  assert.deepEqual([a.callId, a.sequenceNumber, a.acknowledgmentNumber, a.payload.length], [1, undefined, 0xfffffffe, 0])
  assert.equal(toHex(encodeGre(a)), ACK_ONLY.replace(/\s/g, ''))
})

test('encodeGreHeaderInto writes at an offset and encodeGreInto refuses a short target', () => {
  const buf = new Uint8Array(40).fill(0xaa)
  const n = encodeGreHeaderInto(buf, 3, 0x1234, 6, 7, 5)
  assert.equal(n, 16)
  assert.equal(toHex(buf.subarray(3, 19)), '3081880b0006123400000007' + '00000005')
  assert.equal(buf[2], 0xaa)
  assert.equal(buf[19], 0xaa)
  const p = decodeGre(fromHex(DATA_WITH_ACK))
  assert.throws(() => encodeGreInto(p, new Uint8Array(21)), RangeError)
  assert.equal(encodeGreInto(p, new Uint8Array(22)), 22)
  assert.throws(() => encodeGreHeaderInto(buf, 0, 1, 5, -1, 3), RangeError) // payload without sequence
  assert.throws(() => encodeGreHeaderInto(buf, 0, 1, 0, -1, -1), RangeError) // nothing to carry
  assert.throws(() => encodeGreHeaderInto(buf, 0, 0x10000, 0, 1, -1), RangeError)
})

function rejects(hex: string, field: string): void {
  assert.throws(() => decodeGre(fromHex(hex)), (e: unknown) => e instanceof DecodeError && e.field === field, `${hex} -> ${field}`)
}

test('every header field RFC 2637 §4.1 fixes is checked, the error names it', () => {
  rejects('b001880b00010001000000007e', 'gre.C') // C=1
  rejects('7001880b00010001000000007e', 'gre.R') // R=1
  rejects('1001880b00010001000000007e', 'gre.K') // K=0
  rejects('3801880b00010001000000007e', 'gre.s') // s=1
  rejects('3201880b00010001000000007e', 'gre.Recur') // Recur=2
  rejects('3009880b00010001000000007e', 'gre.Flags') // Flags=1
  rejects('3000880b00010001000000007e', 'gre.Ver') // Ver=0 (plain GRE, RFC 2784)
  rejects('3002880b00010001000000007e', 'gre.Ver') // Ver=2
  rejects('300108000001000100000000' + '7e', 'gre.protocol') // IPv4 ethertype
  rejects('3001880b', 'gre.header')
  rejects('3001880b000100010000', 'gre.sequenceNumber')
  rejects('3081880b00010001000000', 'gre.sequenceNumber')
  rejects('3081880b0000000100000001000000', 'gre.acknowledgmentNumber')
  rejects('3001880b00020001000000007e', 'gre.payloadLength') // declares 2, carries 1
  rejects('3001880b000000010000000000', 'gre.payloadLength') // declares 0, carries 1
  rejects('2081880b000100010000000000', 'gre.S') // payload with S=0
  rejects('2001880b00000001', 'gre.A') // neither S nor A
})

const packetArb: fc.Arbitrary<GrePacket> = fc.record({
  callId: fc.integer({ min: 0, max: 0xffff }),
  seq: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
  ack: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
  payload: fc.uint8Array({ minLength: 1, maxLength: 300 }),
}).filter((r) => r.seq !== undefined || r.ack !== undefined)
  .map((r) => ({ callId: r.callId, sequenceNumber: r.seq, acknowledgmentNumber: r.ack, payload: r.seq === undefined ? new Uint8Array(0) : r.payload }))

test('property: encode -> decode is the identity', () => {
  fc.assert(fc.property(packetArb, (p) => {
    const b = encodeGre(p)
    assert.equal(b.length, encodedGreLength(p))
    const q = decodeGre(b)
    assert.deepEqual({ ...q, payload: toHex(q.payload) }, { ...p, payload: toHex(p.payload) })
  }), { numRuns: 500 })
})

test('property: the decoder only ever throws DecodeError (random bytes and mutated valid packets)', () => {
  const check = (b: Uint8Array): void => {
    try { decodeGre(b) } catch (e) { if (!(e instanceof DecodeError)) throw e }
  }
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => check(b)), { numRuns: 2000 })
  fc.assert(fc.property(packetArb, fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 400 }), (p, at, v, cut) => {
    const b = encodeGre(p)
    if (at < b.length) b[at] = v
    check(b.subarray(0, Math.min(cut, b.length)))
    check(b)
  }), { numRuns: 2000 })
})

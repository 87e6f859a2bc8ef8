// RFC 2661 §3.1 header codec: golden bytes built by hand from the §3.1 diagram, the receive-side MUSTs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeL2tp, encodeControl, encodeData, encodeDataInto } from '../../src/l2tp/header.js'
import { DecodeError } from '../../src/lib/errors.js'
import { fromHex, toHex } from '../../src/lib/bytes.js'

const throwsField = (hex: string, field: string): void => {
  assert.throws(() => decodeL2tp(fromHex(hex)), (e: unknown) => e instanceof DecodeError && e.field === field, field)
}

test('§3.1 ZLB control header: T, L, S set, Ver 2 (0xC802), Length 12', () => {
  // T=1 L=1 S=1 O=0 P=0 Ver=2 -> 1100 1000 0000 0010; Length 0x000c; Tunnel 0x1234; Session 0; Ns 3; Nr 5.
  const golden = 'c802 000c 1234 0000 0003 0005'
  assert.equal(toHex(encodeControl({ tunnelId: 0x1234, sessionId: 0, ns: 3, nr: 5 }, new Uint8Array(0))), golden.replace(/ /g, ''))
  const p = decodeL2tp(fromHex(golden))
  assert.deepEqual(p.header, { type: 'control', tunnelId: 0x1234, sessionId: 0, ns: 3, nr: 5 })
  assert.equal(p.payload.length, 0)
})

test('§3.1 control message: payload is exactly Length - 12 octets; trailing octets are not the message', () => {
  const p = decodeL2tp(fromHex('c802 000e 0001 0002 0000 0000 aabb ccdd'))
  assert.equal(toHex(p.payload), 'aabb')
})

test('§3.1 data header without Length or sequence (0x0002), and with Ns (S=1, Nr written 0)', () => {
  const frame = fromHex('ff03c021 0101')
  assert.equal(toHex(encodeData({ tunnelId: 0x1234, sessionId: 0x5678 }, frame)), '000212345678ff03c0210101')
  assert.equal(toHex(encodeData({ tunnelId: 0x1234, sessionId: 0x5678, ns: 7 }, frame)), '08021234567800070000ff03c0210101')
  assert.equal(toHex(encodeData({ tunnelId: 1, sessionId: 2, priority: true }, frame)), '010200010002ff03c0210101')
  const d = decodeL2tp(fromHex('08021234567800070009ff03c021'))
  assert.deepEqual(d.header, { type: 'data', tunnelId: 0x1234, sessionId: 0x5678, ns: 7, nr: 9, priority: false })
  assert.equal(toHex(d.payload), 'ff03c021')
})

test('§3.1 data header with Length and Offset Size: the payload starts after the offset pad', () => {
  // L=1 O=1 Ver=2 -> 0x4202; Length 14; Tunnel 1; Session 2; Offset Size 2; pad 0xeeee; payload c021.
  const d = decodeL2tp(fromHex('4202 000e 0001 0002 0002 eeee c021'))
  assert.equal(toHex(d.payload), 'c021')
  assert.equal(d.header.type, 'data')
})

test('§3.1 reserved bits are ignored on receipt', () => {
  // x bits of §3.1 = 0x34F0; with T, L, S and Ver 2 the first word is 0xFCF2.
  const d = decodeL2tp(fromHex('fcf2 000c 0001 0000 0000 0000'))
  assert.equal(d.header.type, 'control')
})

test('§3.1 receive-side MUSTs: unknown Ver discarded; control needs L and S, no O or P', () => {
  throwsField('c803 000c 0001 0000 0000 0000', 'l2tp.Ver') // L2TPv3 version 3
  throwsField('c801 000c 0001 0000 0000 0000', 'l2tp.Ver') // L2F
  throwsField('8802 0001 0000 0000 0000', 'l2tp.L')
  throwsField('c002 000c 0001 0000 0000 0000', 'l2tp.S')
  throwsField('ca02 000c 0001 0000 0000 0000', 'l2tp.O')
  throwsField('c902 000c 0001 0000 0000 0000', 'l2tp.P')
})

test('§3.1 lengths: declared beyond the datagram, shorter than the header, short reads, offset past the end', () => {
  throwsField('c802 0020 0001 0000 0000 0000', 'l2tp.length')
  throwsField('c802 0008 0001 0000 0000 0000', 'l2tp.ns')
  throwsField('0002 00', 'l2tp.header')
  throwsField('c802 000c 0001 0000 0000', 'l2tp.length')
  throwsField('0202 0001 0002 0009 00', 'l2tp.offset')
})

test('encodeDataInto writes at an offset and refuses a short target', () => {
  const buf = new Uint8Array(20)
  assert.equal(encodeDataInto(buf, 4, { tunnelId: 1, sessionId: 2, ns: 0 }, fromHex('c021')), 12)
  assert.equal(toHex(buf.subarray(4, 16)), '080200010002000000 00c021'.replace(/ /g, ''))
  assert.throws(() => encodeDataInto(new Uint8Array(5), 0, { tunnelId: 1, sessionId: 2 }, fromHex('c021')), RangeError)
})

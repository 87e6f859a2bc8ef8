// ESP header/trailer codec, RFC 4303 §2: golden bytes written by hand from the §2 diagram, the
// §2.4 default padding, every trailer fault, and "only DecodeError / never throws" properties.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { fromHex, toHex } from '../../src/lib/bytes.js'
import { DecodeError } from '../../src/lib/errors.js'
import { ESP_HEADER_LENGTH, EspTrailerFault, decodeEspHeader, encodeEspHeaderInto, espPadLength, parseEspTrailer, writeEspTrailer } from '../../src/esp/packet.js'

test('golden: header is SPI then Sequence Number, big-endian (§2.1, §2.2)', () => {
  const b = fromHex('c0ffee01 0000002a deadbeef')
  assert.deepEqual(decodeEspHeader(b), { spi: 0xc0ffee01, sequenceNumber: 42 })
  const out = new Uint8Array(10)
  encodeEspHeaderInto(out, 1, 0xfffffffe, 0x80000001)
  assert.equal(toHex(out), '00fffffffe8000000100')
})

test('header shorter than 8 bytes is a DecodeError naming esp.header', () => {
  for (let n = 0; n < ESP_HEADER_LENGTH; n++) {
    assert.throws(() => decodeEspHeader(new Uint8Array(n)), (e: unknown) => e instanceof DecodeError && e.field === 'esp.header')
  }
})

test('pad length: 4-byte alignment for GCM (block 1), whole blocks for 3DES (8) and AES-CBC (16) (§2.4)', () => {
  // payload + pad + 2 must be a multiple of max(block, 4).
  assert.equal(espPadLength(0, 1), 2)
  assert.equal(espPadLength(2, 1), 0)
  assert.equal(espPadLength(3, 1), 3)
  assert.equal(espPadLength(62, 1), 0)
  assert.equal(espPadLength(29, 8), 1)
  assert.equal(espPadLength(30, 8), 0)
  assert.equal(espPadLength(64, 16), 14)
  assert.equal(espPadLength(14, 16), 0)
  assert.equal(espPadLength(15, 16), 15)
  fc.assert(fc.property(fc.integer({ min: 0, max: 9000 }), fc.constantFrom(1, 8, 16), (n, bs) => {
    const p = espPadLength(n, bs)
    const align = Math.max(bs, 4)
    return p >= 0 && p < align && (n + p + 2) % align === 0
  }))
})

test('golden trailer: padding 01 02 .. n, then Pad Length, then Next Header (§2.4-2.6)', () => {
  const out = new Uint8Array(8).fill(0xee)
  assert.equal(writeEspTrailer(out, 1, 5, 17), 8)
  assert.equal(toHex(out), 'ee01020304050511')
  const none = new Uint8Array(2)
  writeEspTrailer(none, 0, 0, 4)
  assert.equal(toHex(none), '0004')
})

test('parseEspTrailer: payload length, and each fault by name', () => {
  assert.equal(parseEspTrailer(fromHex('aabbcc 0102 02 11'), true), 3)
  assert.equal(parseEspTrailer(fromHex('00 04'), true), 0)
  assert.equal(parseEspTrailer(fromHex('0102 02 3b'), true), 0)
  assert.equal(parseEspTrailer(fromHex('04'), true), EspTrailerFault.tooShort)
  assert.equal(parseEspTrailer(new Uint8Array(0), true), EspTrailerFault.tooShort)
  // Pad Length 5 but only 3 bytes before the trailer.
  assert.equal(parseEspTrailer(fromHex('010203 05 04'), true), EspTrailerFault.padLength)
  // §2.4 default padding is 1, 2, 3, ...; anything else is refused when checked and kept otherwise.
  assert.equal(parseEspTrailer(fromHex('aa 0103 02 04'), true), EspTrailerFault.padding)
  assert.equal(parseEspTrailer(fromHex('aa 0000 02 04'), true), EspTrailerFault.padding)
  assert.equal(parseEspTrailer(fromHex('aa 0000 02 04'), false), 1)
})

test('properties: decodeEspHeader throws only DecodeError; parseEspTrailer never throws; write/parse round trip', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
    try { decodeEspHeader(b) } catch (e) { if (!(e instanceof DecodeError)) throw e }
    const r = parseEspTrailer(b, true)
    return typeof r === 'string' || (r >= 0 && r <= b.length - 2)
  }))
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), (payload, pad, nh) => {
    const out = new Uint8Array(payload.length + pad + 2)
    out.set(payload)
    writeEspTrailer(out, payload.length, pad, nh)
    return parseEspTrailer(out, true) === payload.length && out[out.length - 1] === nh
  }))
})

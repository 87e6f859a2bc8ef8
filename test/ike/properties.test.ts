// fast-check properties (DESIGN.md §6): every IKEv1 decoder throws only DecodeError on hostile bytes,
// and every payload kind survives encode -> decode unchanged, alone, in chains and in whole messages.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { DecodeError } from '../../src/lib/errors.js'
import { decodeHeader } from '../../src/ike/v1/message/header.js'
import { decodeSaBodyBytes } from '../../src/ike/v1/message/sa.js'
import { decodeMessage, decodePayloadChain, encodeMessage, encodePayloadChain } from '../../src/ike/v1/message/message.js'
import type { IsakmpPayload } from '../../src/ike/v1/message/payloads.js'
import { PAYLOADS } from '../../src/ike/v1/message/payloads.js'
import { checkPayload } from '../../src/ike/v1/message/checks.js'
import { EXCHANGE_RULES, checkMessage } from '../../src/ike/v1/message/exchange-rules.js'
import { openMessage } from '../../src/ike/v1/crypto/protect.js'
import { ikeCipher } from '../../src/ike/v1/crypto/algorithms.js'

const bytes = (max = 24) => fc.uint8Array({ maxLength: max })
const u8 = fc.integer({ min: 0, max: 255 })
const u16 = fc.integer({ min: 0, max: 0xffff })
const u32 = fc.integer({ min: 0, max: 0xffffffff })
/** Plain-prototype records, so deepEqual compares them with decoded objects. */
const rec = <T extends object>(m: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> => fc.record<T>(m, { noNullPrototype: true })

const attribute = fc.oneof(
  rec({ type: fc.integer({ min: 0, max: 0x7fff }), value: u16 }),
  rec({ type: fc.integer({ min: 0, max: 0x7fff }), value: bytes(12) }),
)
const transform = rec({ number: u8, transformId: u8, attributes: fc.array(attribute, { maxLength: 5 }) })
const proposal = rec({ number: u8, protocolId: u8, spi: bytes(8), transforms: fc.array(transform, { maxLength: 3 }) })
const UNKNOWN_TYPES = [2, 3, 14, 15, 16, 17, 18, 19, 22, 99, 129, 133, 200, 255]

const payload: fc.Arbitrary<IsakmpPayload> = fc.oneof(
  rec({ payload: fc.constant('sa' as const), doi: fc.constant(1), situation: u32.map((s) => (s & ~6) >>> 0), proposals: fc.array(proposal, { minLength: 1, maxLength: 3 }) }),
  rec({ payload: fc.constant('ke' as const), data: bytes(64) }),
  rec({ payload: fc.constant('id' as const), idType: u8, protocolId: u8, port: u16, data: bytes() }),
  rec({ payload: fc.constant('cert' as const), encoding: u8, data: bytes() }),
  rec({ payload: fc.constant('cr' as const), encoding: u8, authority: bytes() }),
  rec({ payload: fc.constant('hash' as const), data: bytes() }),
  rec({ payload: fc.constant('sig' as const), data: bytes() }),
  rec({ payload: fc.constant('nonce' as const), data: bytes() }),
  rec({ payload: fc.constant('notify' as const), doi: u32, protocolId: u8, spi: bytes(16), notifyType: u16, data: bytes() }),
  fc.integer({ min: 0, max: 16 }).chain((spiSize) => rec({
    payload: fc.constant('delete' as const), doi: u32, protocolId: u8, spiSize: fc.constant(spiSize),
    spis: fc.array(fc.uint8Array({ minLength: spiSize, maxLength: spiSize }), { maxLength: 4 }),
  })),
  rec({ payload: fc.constant('vendorId' as const), data: bytes() }),
  rec({ payload: fc.constant('natD' as const), draft: fc.boolean(), data: bytes() }),
  rec({ payload: fc.constant('natOa' as const), draft: fc.boolean(), idType: u8, address: bytes(16) }),
  rec({ payload: fc.constant('fragment' as const), fragmentId: u16, number: u8, flags: u8, data: bytes() }),
  rec({ payload: fc.constant('unknown' as const), payloadType: fc.constantFrom(...UNKNOWN_TYPES), body: bytes() }),
)

test('property: every payload kind round-trips through a chain', () => {
  fc.assert(fc.property(fc.array(payload, { minLength: 1, maxLength: 6 }), (ps) => {
    const b = encodePayloadChain(ps)
    const first = b.length ? decodeFirstType(ps[0]!) : 0
    assert.deepEqual(decodePayloadChain(first, b, 0, b.length, false).payloads, ps)
  }), { numRuns: 400 })
})

function decodeFirstType(p: IsakmpPayload): number {
  const m = encodeMessage({ initiatorCookie: new Uint8Array(8), responderCookie: new Uint8Array(8), version: 0x10, exchangeType: 2, flags: 0, messageId: 0 }, [p])
  return m[16]!
}

test('property: whole messages round-trip (header fields, Next Payload, Length)', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.uint8Array({ minLength: 8, maxLength: 8 }), u8, fc.integer({ min: 0, max: 0xfe }), u32, fc.array(payload, { maxLength: 5 }), (ci, cr, ex, fl, mid, ps) => {
    const flags = fl & ~1 // E clear: a plaintext message
    const b = encodeMessage({ initiatorCookie: ci, responderCookie: cr, version: 0x10, exchangeType: ex, flags, messageId: mid }, ps)
    const m = decodeMessage(b)
    assert.deepEqual(m.payloads, ps)
    assert.deepEqual([m.header.exchangeType, m.header.flags, m.header.messageId, m.header.length], [ex, flags, mid, b.length])
  }), { numRuns: 300 })
})

function onlyDecodeError(f: () => unknown): void {
  try { f() } catch (e) { if (!(e instanceof DecodeError)) throw e }
}

test('property: decoders throw only DecodeError on random bytes', () => {
  fc.assert(fc.property(bytes(120), fc.integer({ min: 0, max: 255 }), (b, first) => {
    onlyDecodeError(() => decodeHeader(b))
    onlyDecodeError(() => decodeMessage(b))
    onlyDecodeError(() => decodeSaBodyBytes(b))
    onlyDecodeError(() => decodePayloadChain(first, b, 0, b.length, true))
    onlyDecodeError(() => decodePayloadChain(first, b, 0, b.length, false))
  }), { numRuns: 2000 })
})

test('property: mutated valid messages throw only DecodeError; what decodes passes the checks without throwing', () => {
  const hdr = { initiatorCookie: new Uint8Array(8).fill(1), responderCookie: new Uint8Array(8), version: 0x10, exchangeType: 2, flags: 0, messageId: 0 }
  fc.assert(fc.property(fc.array(payload, { minLength: 1, maxLength: 4 }), fc.array(fc.tuple(fc.nat(), u8), { minLength: 1, maxLength: 4 }), (ps, flips) => {
    const b = encodeMessage(hdr, ps)
    for (const [at, v] of flips) b[28 + (at % Math.max(1, b.length - 28))] = v
    try {
      const m = decodeMessage(b)
      for (const p of m.payloads) checkPayload(p)
      for (const rule of Object.values(EXCHANGE_RULES)) checkMessage(rule, m.spans.map((s) => s.payloadType), m.header.flags)
    } catch (e) { if (!(e instanceof DecodeError)) throw e }
  }), { numRuns: 1000 })
})

test('property: openMessage on random ciphertext throws only DecodeError', () => {
  const c = ikeCipher(7, 128)!
  const key = new Uint8Array(16), iv = new Uint8Array(16)
  fc.assert(fc.property(fc.integer({ min: 0, max: 6 }), fc.uint8Array({ minLength: 0, maxLength: 96 }), u8, (blocks, body, next) => {
    const ct = body.subarray(0, blocks * 16 <= body.length ? blocks * 16 : body.length)
    const d = new Uint8Array(28 + ct.length)
    d.set([0x01, 0x10, 0x20, 0x01], 16); d[16] = next
    d.set(ct, 28)
    new DataView(d.buffer).setUint32(24, d.length)
    onlyDecodeError(() => openMessage(d, c, key, iv))
  }), { numRuns: 500 })
})

test('the payload table has an entry for every named type and minLength covers each fixed part', () => {
  assert.deepEqual(Object.keys(PAYLOADS).map(Number).sort((a, b) => a - b), [1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 20, 21, 130, 131, 132])
})

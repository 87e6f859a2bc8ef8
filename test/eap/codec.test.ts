// EAP codec (RFC 3748 §4, §5.3.1) and EAP-MS-CHAPv2 / MD5-Challenge Type-Data codecs: golden bytes,
// RFC length rules, and the property that decoders only ever throw DecodeError.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { utf8 } from '../../src/lib/bytes.js'
import { DecodeError } from '../../src/lib/errors.js'
import { decodeEap, decodeNak, encodeEap, encodeNak, EapType } from '../../src/auth/eap/codec.js'
import type { EapPacket } from '../../src/auth/eap/codec.js'
import { decodeEapMsChapV2, encodeEapMsChapV2 } from '../../src/auth/eap/mschapv2-codec.js'
import { decodeEapMd5, encodeEapMd5 } from '../../src/auth/eap/md5.js'
import { parseFailureMessage, parseSuccessMessage } from '../../src/auth/eap/mschapv2-common.js'

const b = (...parts: (number | string | Uint8Array)[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => typeof p === 'number' ? [p] : typeof p === 'string' ? [...utf8(p)] : [...p]))

test('EAP golden bytes (RFC 3748 §4.1, §4.2, §5.1, §5.3.1)', () => {
  const cases: [EapPacket, Uint8Array][] = [
    [{ code: 'Request', identifier: 1, type: EapType.IDENTITY, typeData: new Uint8Array(0) }, b(0x01, 0x01, 0x00, 0x05, 0x01)],
    [{ code: 'Response', identifier: 1, type: EapType.IDENTITY, typeData: utf8('alice') }, b(0x02, 0x01, 0x00, 0x0a, 0x01, 'alice')],
    [{ code: 'Response', identifier: 2, type: EapType.NAK, typeData: Uint8Array.of(26) }, b(0x02, 0x02, 0x00, 0x06, 0x03, 0x1a)],
    [{ code: 'Success', identifier: 5 }, b(0x03, 0x05, 0x00, 0x04)],
    [{ code: 'Failure', identifier: 6 }, b(0x04, 0x06, 0x00, 0x04)],
  ]
  for (const [p, bytes] of cases) {
    assert.deepEqual(encodeEap(p), bytes)
    assert.deepEqual(decodeEap(bytes), p)
  }
})

test('EAP length rules: padding ignored, overlong Length and type-less Requests discarded', () => {
  assert.deepEqual(decodeEap(b(0x02, 0x01, 0x00, 0x07, 0x01, 'ab', 0, 0, 0)), { code: 'Response', identifier: 1, type: 1, typeData: utf8('ab') })
  for (const bad of [b(0x01, 0x01, 0x00, 0x06, 0x01), b(0x01, 0x01, 0x00, 0x04), b(0x01, 0x01, 0x00, 0x03, 0x01), b(0x05, 0x01, 0x00, 0x04), b(0x02, 0x01, 0x00, 0x05, 0x03), b(0x01, 0x01)]) {
    assert.throws(() => decodeEap(bad), DecodeError)
  }
  // Unknown Types are kept as raw Type-Data (DESIGN.md §3).
  assert.deepEqual(decodeEap(b(0x01, 0x09, 0x00, 0x07, 0x63, 0xaa, 0xbb)), { code: 'Request', identifier: 9, type: 0x63, typeData: Uint8Array.of(0xaa, 0xbb) })
})

test('legacy Nak lists (§5.3.1): 0 means no alternative', () => {
  assert.deepEqual([...encodeNak([])], [0])
  assert.deepEqual([...encodeNak([26, 4])], [26, 4])
  assert.deepEqual(decodeNak(Uint8Array.of(0)), [])
  assert.deepEqual(decodeNak(Uint8Array.of(4, 26)), [4, 26])
})

test('EAP-MS-CHAPv2 Type-Data golden bytes (draft-kamath-pppext-eap-mschapv2-02 §2.1-§2.6)', () => {
  const ch = Uint8Array.from({ length: 16 }, (_, i) => i)
  // §2.1 Challenge: OpCode 1, MS-CHAPv2-ID, MS-Length = 4 + 1 + 16 + 2 = 23, Value-Size 16, Challenge, Name
  const challenge = b(0x01, 0x2a, 0x00, 0x17, 0x10, ch, 'gw')
  assert.deepEqual(encodeEapMsChapV2({ opCode: 'Challenge', msChapV2Id: 0x2a, value: ch, name: utf8('gw') }), challenge)
  assert.deepEqual(decodeEapMsChapV2(challenge, 'request'), { opCode: 'Challenge', msChapV2Id: 0x2a, value: ch, name: utf8('gw') })
  // §2.3 Success Request: OpCode 3, ID, MS-Length = 4 + message
  const sreq = b(0x03, 0x2a, 0x00, 0x08, 'M=ok')
  assert.deepEqual(encodeEapMsChapV2({ opCode: 'Success-Request', msChapV2Id: 0x2a, message: utf8('M=ok') }), sreq)
  assert.deepEqual(decodeEapMsChapV2(sreq, 'request'), { opCode: 'Success-Request', msChapV2Id: 0x2a, message: utf8('M=ok') })
  assert.deepEqual(decodeEapMsChapV2(b(0x04, 0x2a, 0x00, 0x04), 'request'), { opCode: 'Failure-Request', msChapV2Id: 0x2a, message: new Uint8Array(0) })
  // §2.4 / §2.6: Success and Failure Responses are the OpCode alone
  assert.deepEqual(encodeEapMsChapV2({ opCode: 'Success-Response' }), b(0x03))
  assert.deepEqual(encodeEapMsChapV2({ opCode: 'Failure-Response' }), b(0x04))
  assert.deepEqual(decodeEapMsChapV2(b(0x03), 'response'), { opCode: 'Success-Response' })
  assert.deepEqual(decodeEapMsChapV2(b(0x04), 'response'), { opCode: 'Failure-Response' })
  // Wrong MS-Length, a Response OpCode in a Request, truncation
  const resp = b(0x02, 0x2a, 0x00, 0x17, 0x10, ch, 'gw')
  assert.deepEqual(decodeEapMsChapV2(resp, 'response'), { opCode: 'Response', msChapV2Id: 0x2a, value: ch, name: utf8('gw') })
  // A wrong MS-Length is refused from peers (Responses) but tolerated from servers (Requests).
  assert.deepEqual(decodeEapMsChapV2(b(0x01, 0x2a, 0x00, 0x16, 0x10, ch, 'gw'), 'request'), { opCode: 'Challenge', msChapV2Id: 0x2a, value: ch, name: utf8('gw') })
  for (const [bad, dir] of [[b(0x02, 0x2a, 0x00, 0x16, 0x10, ch, 'gw'), 'response'], [b(0x02, 0x2a, 0x00, 0x04), 'request'], [b(0x01, 0x2a), 'request'], [b(0x01), 'response'], [b(0x01, 0x2a, 0x00, 0x17, 0x20, ch, 'gw'), 'request']] as const) {
    assert.throws(() => decodeEapMsChapV2(bad, dir), DecodeError)
  }
})

test('MD5-Challenge Type-Data golden bytes (RFC 3748 §5.4)', () => {
  const v = Uint8Array.from({ length: 16 }, (_, i) => 0xf0 ^ i)
  assert.deepEqual(encodeEapMd5(v, utf8('gw')), b(0x10, v, 'gw'))
  assert.deepEqual(decodeEapMd5(b(0x10, v, 'gw')), { value: v, name: utf8('gw') })
  assert.throws(() => decodeEapMd5(b(0x00)), DecodeError)
  assert.throws(() => decodeEapMd5(b(0x10, 1, 2)), DecodeError)
})

test('MS-CHAPv2 message text (RFC 2759 §5, §6) parses leniently', () => {
  assert.equal(parseSuccessMessage(utf8('S=407A5589115FD0D6209F510FE9C04566932CDA56 M=hi')), 'S=407A5589115FD0D6209F510FE9C04566932CDA56')
  assert.equal(parseSuccessMessage(utf8('S=407A5589115FD0D6209F510FE9C04566932CDA5')), undefined)
  assert.equal(parseSuccessMessage(utf8('M=hi')), undefined)
  assert.deepEqual(parseFailureMessage(utf8('E=691 R=1 C=00112233445566778899AABBCCDDEEFF V=3 M=bad E=647')), { error: 691, retry: true, text: 'bad E=647' })
  assert.deepEqual(parseFailureMessage(utf8('garbage')), { error: undefined, retry: false, text: '' })
})

test('property: EAP and method decoders only ever throw DecodeError; EAP round-trips', () => {
  const onlyDecodeError = (f: () => unknown): void => {
    try { f() } catch (e) { if (!(e instanceof DecodeError)) throw e }
  }
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
    onlyDecodeError(() => decodeEap(bytes))
    onlyDecodeError(() => decodeEapMsChapV2(bytes, 'request'))
    onlyDecodeError(() => decodeEapMsChapV2(bytes, 'response'))
    onlyDecodeError(() => decodeEapMd5(bytes))
    parseFailureMessage(bytes)
    parseSuccessMessage(bytes)
  }), { numRuns: 2000 })
  const packet = fc.oneof(
    fc.record({ code: fc.constantFrom('Request' as const, 'Response' as const), identifier: fc.integer({ min: 0, max: 255 }), type: fc.constantFrom(1, 2, 13, 26, 99), typeData: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
    fc.record({ code: fc.constantFrom('Success' as const, 'Failure' as const), identifier: fc.integer({ min: 0, max: 255 }) }),
  )
  fc.assert(fc.property(packet, (p) => { assert.deepEqual(decodeEap(encodeEap(p as EapPacket)), { ...p }) }), { numRuns: 500 })
})

// Typed phase 1 (RFC 2409 §5, App. A) and ESP (RFC 2407 §4.5) transforms: hand-built attribute lists,
// each syntax fault with the notify it earns, and build -> parse round trips (fast-check).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { fromHex } from '../../src/lib/bytes.js'
import { NotifyType } from '../../src/ike/v1/constants.js'
import { DecodeError } from '../../src/lib/errors.js'
import { buildEspTransform, buildPhase1Transform, parseEspTransform, parsePhase1Transform, parseResponderLifetime } from '../../src/ike/v1/proposal/transforms.js'
import type { EspTransform, Phase1Transform } from '../../src/ike/v1/proposal/transforms.js'
import { EncapsulationMode, EspTransformId, IpsecAuthAlgorithm, OakleyAuth, OakleyEncryption, OakleyGroup, OakleyHash } from '../../src/ike/v1/oakley.js'

const tv = (type: number, value: number) => ({ type, value })

test('phase 1: AES-256/SHA-1/PSK/MODP2048, 8 h as a 4-byte TLV (the codec golden transform) parses', () => {
  const t = { number: 1, transformId: 1, attributes: [tv(1, 7), tv(14, 256), tv(2, 2), tv(3, 1), tv(4, 14), tv(11, 1), { type: 12, value: fromHex('00007080') }] }
  assert.deepEqual(parsePhase1Transform(t), { ok: true, value: { encryption: 7, keyLength: 256, hash: 2, authMethod: 1, group: 14, seconds: 28800 } })
})

test('phase 1: seconds and kilobytes lifetimes both apply to their own Life Type (RFC 2409 App. A)', () => {
  const t = { number: 1, transformId: 1, attributes: [tv(1, 5), tv(2, 1), tv(3, 3), tv(4, 2), tv(11, 2), tv(12, 50000), tv(11, 1), tv(12, 3600)] }
  assert.deepEqual(parsePhase1Transform(t), { ok: true, value: { encryption: 5, hash: 1, authMethod: 3, group: 2, seconds: 3600, kilobytes: 50000 } })
})

const BAD1: Array<[string, { type: number; value: number }[], number, number]> = [
  ['group missing (RFC 2409 §5 required attributes)', [tv(1, 7), tv(14, 128), tv(2, 2), tv(3, 1)], 1, NotifyType.BadProposalSyntax],
  ['PRF class 13 not supported', [tv(1, 7), tv(2, 2), tv(3, 1), tv(4, 14), tv(13, 1)], 1, NotifyType.AttributesNotSupported],
  ['custom group prime (class 6) not supported', [tv(1, 7), tv(2, 2), tv(3, 1), tv(4, 14), tv(6, 1)], 1, NotifyType.AttributesNotSupported],
  ['life duration without a life type', [tv(1, 7), tv(2, 2), tv(3, 1), tv(4, 14), tv(12, 3600)], 1, NotifyType.BadProposalSyntax],
  ['life type without a duration', [tv(1, 7), tv(2, 2), tv(3, 1), tv(4, 14), tv(11, 1)], 1, NotifyType.BadProposalSyntax],
  ['life type 3', [tv(1, 7), tv(2, 2), tv(3, 1), tv(4, 14), tv(11, 3), tv(12, 1)], 1, NotifyType.AttributesNotSupported],
  ['hash repeated', [tv(1, 7), tv(2, 2), tv(2, 4), tv(3, 1), tv(4, 14)], 1, NotifyType.BadProposalSyntax],
  ['transform ID other than KEY_IKE', [tv(1, 7), tv(2, 2), tv(3, 1), tv(4, 14)], 2, NotifyType.InvalidTransformId],
]
for (const [name, attributes, transformId, notify] of BAD1) {
  test(`phase 1 refused: ${name}`, () => {
    const r = parsePhase1Transform({ number: 1, transformId, attributes })
    assert.equal(r.ok, false)
    if (!r.ok) assert.equal(r.notify, notify)
  })
}

test('phase 1: an empty TLV value (no number) is BAD-PROPOSAL-SYNTAX', () => {
  const r = parsePhase1Transform({ number: 1, transformId: 1, attributes: [tv(1, 7), tv(2, 2), tv(3, 1), tv(4, 14), { type: 11, value: new Uint8Array(0) }] })
  assert.deepEqual(r.ok ? undefined : r.notify, NotifyType.BadProposalSyntax)
})

test('ESP: AES-CBC-256 + HMAC-SHA1, UDP-encapsulated transport (RFC 3947 §5.1), 1 h — as Windows proposes for L2TP', () => {
  const t = { number: 1, transformId: EspTransformId.AesCbc, attributes: [tv(1, 1), tv(2, 3600), tv(4, EncapsulationMode.UdpTransport), tv(5, IpsecAuthAlgorithm.HmacSha1), tv(6, 256)] }
  assert.deepEqual(parseEspTransform(t), { ok: true, value: { transformId: 12, keyLength: 256, authAlgorithm: 2, encapsulation: 4, seconds: 3600 } })
  assert.deepEqual(buildEspTransform(1, { transformId: 12, keyLength: 256, authAlgorithm: 2, encapsulation: 4, seconds: 3600 }), t)
})

test('ESP: AES-GCM-16 (RFC 4106 §8.1) carries no Authentication Algorithm; PFS group; draft encapsulation 61443', () => {
  const t = { number: 2, transformId: EspTransformId.AesGcm16, attributes: [tv(3, 14), tv(4, EncapsulationMode.UdpTunnelDraft), tv(6, 128)] }
  assert.deepEqual(parseEspTransform(t), { ok: true, value: { transformId: 20, keyLength: 128, encapsulation: 61443, group: 14 } })
})

test('ESP refused: Key Rounds (class 7) and a duplicated mode', () => {
  const a = parseEspTransform({ number: 1, transformId: 12, attributes: [tv(7, 1)] })
  const b = parseEspTransform({ number: 1, transformId: 12, attributes: [tv(4, 1), tv(4, 2)] })
  assert.deepEqual([a.ok ? 0 : a.notify, b.ok ? 0 : b.notify], [NotifyType.AttributesNotSupported, NotifyType.BadProposalSyntax])
})

const life = { seconds: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }), kilobytes: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }) }
const strip = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T

test('property: buildPhase1Transform -> parsePhase1Transform round-trips', () => {
  const u16 = fc.integer({ min: 0, max: 0xffff })
  fc.assert(fc.property(fc.record({ encryption: u16, keyLength: fc.option(u16, { nil: undefined }), hash: u16, authMethod: u16, group: u16, ...life }), (raw) => {
    const p = strip(raw) as Phase1Transform
    assert.deepEqual(parsePhase1Transform(buildPhase1Transform(1, p)), { ok: true, value: p })
  }), { numRuns: 300 })
})

test('property: buildEspTransform -> parseEspTransform round-trips', () => {
  const u16 = fc.integer({ min: 0, max: 0xffff }), opt = fc.option(u16, { nil: undefined })
  fc.assert(fc.property(fc.record({ transformId: fc.integer({ min: 0, max: 255 }), keyLength: opt, authAlgorithm: opt, encapsulation: opt, group: opt, ...life }), (raw) => {
    const p = strip(raw) as EspTransform
    assert.deepEqual(parseEspTransform(buildEspTransform(1, p)), { ok: true, value: p })
  }), { numRuns: 300 })
})

test('the constants used by the proposal tables exist (Windows/macOS/strongSwan defaults)', () => {
  assert.deepEqual([OakleyEncryption.AesCbc, OakleyHash.Sha2_256, OakleyAuth.EcdsaP256Sha256, OakleyGroup.Ecp384], [7, 4, 9, 20])
})

test('RFC 2407 §4.6.3.1 RESPONDER-LIFETIME data: life type seconds + 4-byte duration 3600; kilobytes too; junk refused', () => {
  assert.deepEqual(parseResponderLifetime(fromHex('8001 0001 0002 0004 00000e10')), { ok: true, value: { seconds: 3600 } })
  assert.deepEqual(parseResponderLifetime(fromHex('8001 0002 8002 1000 8001 0001 8002 0e10')), { ok: true, value: { kilobytes: 4096, seconds: 3600 } })
  const r = parseResponderLifetime(fromHex('8004 0001'))
  assert.equal(r.ok ? 0 : r.notify, NotifyType.AttributesNotSupported)
  assert.throws(() => parseResponderLifetime(fromHex('0002 0009 00')), DecodeError)
})

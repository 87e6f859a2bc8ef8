// Responder proposal choice (RFC 2408 §4.2): initiator's order wins, unparsable and unaccepted transforms
// are passed over with a reason, the answer echoes the chosen transform byte for byte.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fromHex } from '../../src/lib/bytes.js'
import { NotifyType } from '../../src/ike/v1/constants.js'
import { encodePayloadChain } from '../../src/ike/v1/message/message.js'
import type { SaBody, IsakmpTransform } from '../../src/ike/v1/message/sa.js'
import { implementedEsp, implementedPhase1, responderSa, selectEsp, selectPhase1 } from '../../src/ike/v1/proposal/select.js'
import { buildEspTransform, buildPhase1Transform } from '../../src/ike/v1/proposal/transforms.js'

const tv = (type: number, value: number) => ({ type, value })
const t1 = (number: number, enc: number, keyLength: number | undefined, hash: number, group: number): IsakmpTransform =>
  buildPhase1Transform(number, { encryption: enc, ...(keyLength ? { keyLength } : {}), hash, authMethod: 1, group, seconds: 28800 })
const offer: SaBody = {
  doi: 1, situation: 1, proposals: [
    { number: 1, protocolId: 3, spi: new Uint8Array(4), transforms: [t1(1, 7, 256, 2, 14)] }, // wrong protocol in phase 1
    {
      number: 1, protocolId: 1, spi: new Uint8Array(0), transforms: [
        { number: 1, transformId: 1, attributes: [tv(1, 7), tv(14, 256), tv(2, 2), tv(3, 1)] }, // no group
        t1(2, 7, 256, 4, 5), // MODP 1536: not implemented
        t1(3, 5, undefined, 2, 2), // 3DES/SHA-1/MODP1024: old Windows
        t1(4, 7, 128, 4, 14),
      ],
    },
  ],
}

test('phase 1: the initiator\'s first acceptable transform wins, with a reason for each one passed over', () => {
  const r = selectPhase1(offer, implementedPhase1)
  assert.ok('parsed' in r)
  assert.equal(r.transform.number, 3)
  assert.deepEqual(r.parsed, { encryption: 5, hash: 2, authMethod: 1, group: 2, seconds: 28800 })
  const narrow = selectPhase1(offer, (t) => implementedPhase1(t) && t.group === 14)
  assert.ok('parsed' in narrow && narrow.transform.number === 4)
})

test('phase 1: nothing acceptable is NO-PROPOSAL-CHOSEN with every reason', () => {
  const r = selectPhase1(offer, () => false)
  assert.ok('notify' in r)
  assert.equal(r.notify, NotifyType.NoProposalChosen)
  assert.equal(r.reasons.length, 5)
  assert.match(r.reasons[0]!, /protocol 3/)
  assert.match(r.reasons[1]!, /required/)
})

test('RFC 2408 §4.2: the responder SA carries the chosen transform exactly as received (TLV form kept)', () => {
  const odd: IsakmpTransform = { number: 9, transformId: 1, attributes: [tv(1, 7), tv(14, 128), tv(2, 2), tv(3, 1), tv(4, 14), tv(11, 1), { type: 12, value: fromHex('00000e10') }] }
  const sa: SaBody = { doi: 1, situation: 1, proposals: [{ number: 1, protocolId: 1, spi: new Uint8Array(0), transforms: [t1(1, 6, undefined, 2, 2), odd] }] }
  const r = selectPhase1(sa, implementedPhase1)
  assert.ok('parsed' in r && r.parsed.seconds === 3600)
  const reply = responderSa(sa, r as Exclude<typeof r, { notify: number }>)
  assert.deepEqual(reply.proposals, [{ number: 1, protocolId: 1, spi: new Uint8Array(0), transforms: [odd] }])
  // Byte check: the transform inside our reply is the initiator's transform bytes.
  const bytes = encodePayloadChain([{ payload: 'sa', ...reply }])
  assert.deepEqual(bytes.subarray(bytes.length - 40), fromHex('00 00 0028 09 01 0000 8001 0007 800e 0080 8002 0002 8003 0001 8004 000e 800b 0001 000c 0004 00000e10'))
})

const esp = (number: number, spi: string, protocolId: number, ...ts: IsakmpTransform[]) => ({ number, protocolId, spi: fromHex(spi), transforms: ts })
const aes = (n: number, keyLength: number, authAlgorithm?: number) => buildEspTransform(n, { transformId: 12, keyLength, ...(authAlgorithm ? { authAlgorithm } : {}), encapsulation: 4, seconds: 3600 })

test('ESP: bundles (repeated proposal number), AH, 8-byte SPIs and unimplemented suites are skipped', () => {
  const sa: SaBody = {
    doi: 1, situation: 1, proposals: [
      esp(1, 'aaaaaaaa', 3, aes(1, 256, 2)), esp(1, 'bbbbbbbb', 2, { number: 1, transformId: 3, attributes: [] }), // ESP+AH bundle
      esp(2, 'cccccccccccccccc', 3, aes(1, 256, 2)),
      esp(3, 'dddddddd', 3, aes(1, 256, 1) /* HMAC-MD5 */, aes(2, 64, 2), buildEspTransform(3, { transformId: 20, keyLength: 256, encapsulation: 3 })),
    ],
  }
  const r = selectEsp(sa, implementedEsp)
  assert.ok('parsed' in r)
  assert.deepEqual([r.proposal.number, r.transform.number, r.parsed.transformId], [3, 3, 20])
  const reply = responderSa(sa, r, fromHex('12345678'))
  assert.deepEqual(reply.proposals[0]!.spi, fromHex('12345678'))
  assert.deepEqual(reply.proposals[0]!.transforms, [r.transform])
  const none = selectEsp({ doi: 1, situation: 1, proposals: sa.proposals.slice(0, 3) }, implementedEsp)
  assert.ok('notify' in none && none.reasons.some((x) => /bundle/.test(x)) && none.reasons.some((x) => /SPI of 8/.test(x)))
})

test('implemented suites: one cell per rule', () => {
  const p1 = { encryption: 7, keyLength: 256, hash: 2, authMethod: 1, group: 14 }
  assert.equal(implementedPhase1(p1), true)
  assert.equal(implementedPhase1({ ...p1, keyLength: undefined as unknown as number }), false) // AES without Key Length
  assert.equal(implementedPhase1({ ...p1, encryption: 1, keyLength: undefined as unknown as number }), false) // DES
  assert.equal(implementedPhase1({ ...p1, hash: 3 }), false) // Tiger
  assert.equal(implementedPhase1({ ...p1, group: 5 }), false)
  assert.equal(implementedPhase1({ ...p1, group: 19, authMethod: 9 }), true)
  assert.equal(implementedPhase1({ ...p1, authMethod: 65001 }), false) // XAUTH not yet
  const e = { transformId: 12, keyLength: 128, authAlgorithm: 5, encapsulation: 1 }
  assert.equal(implementedEsp(e), true)
  assert.equal(implementedEsp({ ...e, encapsulation: 61444 }), true)
  assert.equal(implementedEsp({ ...e, encapsulation: 9 }), false)
  assert.equal(implementedEsp({ ...e, group: 14 }), true)
  assert.equal(implementedEsp({ ...e, group: 5 }), false)
  assert.equal(implementedEsp({ transformId: 3, authAlgorithm: 2 }), true)
  assert.equal(implementedEsp({ transformId: 3 }), false)
  assert.equal(implementedEsp({ transformId: 20, keyLength: 256 }), true)
  assert.equal(implementedEsp({ transformId: 20, keyLength: 256, authAlgorithm: 2 }), false)
  assert.equal(implementedEsp({ transformId: 11, authAlgorithm: 2 }), false) // ESP_NULL
})

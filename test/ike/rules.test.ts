// One test per message rule of the exchange table (RFC 2409 §5.1–§5.5, §5.7; RFC 3947), each with
// hand-written valid payload sequences and the violations the RFC text names; plus per-payload MUSTs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HeaderFlag, NotifyType, PayloadType as T } from '../../src/ike/v1/constants.js'
import { EXCHANGE_RULES, checkMessage } from '../../src/ike/v1/message/exchange-rules.js'
import type { MessageRuleName } from '../../src/ike/v1/message/exchange-rules.js'
import { checkHeader, checkPayload } from '../../src/ike/v1/message/checks.js'
import { fromHex } from '../../src/lib/bytes.js'

const E = HeaderFlag.Encryption
const SA = T.SecurityAssociation, KE = T.KeyExchange, ID = T.Identification, CERT = T.Certificate, CR = T.CertificateRequest
const HASH = T.Hash, SIG = T.Signature, NONCE = T.Nonce, N = T.Notification, D = T.Delete, VID = T.VendorId, NATD = T.NatD, NATOA = T.NatOa

/** Valid sequences written from the RFC 2409 §5 diagrams (with optional payloads real clients add). */
const VALID: Record<MessageRuleName, number[][]> = {
  mainMode1: [[SA], [SA, VID, VID, VID]],
  mainMode2: [[SA], [SA, VID]],
  mainMode3: [[KE, NONCE], [KE, NONCE, NATD, NATD, VID], [KE, NONCE, CR, T.NatDDraft, T.NatDDraft]],
  mainMode4: [[KE, NONCE], [KE, NONCE, CR, NATD, NATD, VID]],
  mainMode5: [[ID, HASH], [ID, HASH, N], [ID, CERT, CR, SIG, N], [ID, CERT, CERT, SIG]],
  mainMode6: [[ID, HASH], [ID, CERT, SIG], [ID, HASH, VID]],
  aggressive1: [[SA, KE, NONCE, ID], [SA, KE, NONCE, ID, VID, VID]],
  aggressive2: [[SA, KE, NONCE, ID, HASH], [SA, KE, NONCE, ID, CERT, SIG, NATD, NATD, VID]],
  aggressive3: [[HASH], [HASH, NATD, NATD], [CERT, SIG]],
  quickMode1: [[HASH, SA, NONCE], [HASH, SA, NONCE, KE, ID, ID], [HASH, SA, NONCE, ID, ID, NATOA, NATOA]],
  quickMode2: [[HASH, SA, NONCE], [HASH, SA, NONCE, KE, ID, ID, N], [HASH, SA, NONCE, ID, ID, T.NatOaDraft, T.NatOaDraft]],
  quickMode3: [[HASH]],
  informational: [[HASH, N], [HASH, D], [HASH, D, D]],
  informationalPlain: [[N]],
}

/** The violations the RFC text names for each message (sequence, reason, payload the reason is about). */
const INVALID: Record<MessageRuleName, [number[], string, number][]> = {
  mainMode1: [[[VID, SA], 'order', SA], [[SA, SA], 'too-many', SA], [[SA, KE], 'unexpected', KE]],
  mainMode2: [[[], 'order', SA], [[SA, NONCE], 'unexpected', NONCE]],
  mainMode3: [[[KE], 'missing', NONCE], [[KE, NONCE, NONCE], 'too-many', NONCE], [[KE, NONCE, SA], 'unexpected', SA]],
  mainMode4: [[[NONCE], 'missing', KE], [[KE, NONCE, ID], 'unexpected', ID]],
  mainMode5: [[[ID], 'missing', HASH], [[ID, HASH, SIG], 'too-many', HASH], [[HASH], 'missing', ID], [[ID, HASH, KE], 'unexpected', KE]],
  mainMode6: [[[ID, SIG, SIG], 'too-many', SIG], [[ID, HASH, CR], 'unexpected', CR]],
  aggressive1: [[[KE, SA, NONCE, ID], 'order', SA], [[SA, KE, NONCE], 'missing', ID], [[SA, KE, NONCE, ID, HASH], 'unexpected', HASH]],
  aggressive2: [[[SA, KE, NONCE, ID], 'missing', HASH], [[SA, KE, NONCE, ID, HASH, SIG], 'too-many', HASH]],
  aggressive3: [[[], 'missing', HASH], [[HASH, KE], 'unexpected', KE]],
  quickMode1: [[[SA, HASH, NONCE], 'order', HASH], [[HASH, NONCE, SA], 'order', SA], [[HASH, SA, NONCE, ID], 'count', ID], [[HASH, SA], 'missing', NONCE], [[HASH, SA, NONCE, KE, KE], 'too-many', KE]],
  quickMode2: [[[HASH, SA, NONCE, ID, ID, ID], 'too-many', ID], [[HASH, SA, NONCE, D], 'unexpected', D]],
  quickMode3: [[[HASH, HASH], 'too-many', HASH], [[HASH, N], 'unexpected', N], [[N], 'unexpected', N]],
  informational: [[[HASH], 'missing', N], [[N, HASH], 'order', HASH], [[HASH, SA], 'unexpected', SA]],
  informationalPlain: [[[N, N], 'too-many', N], [[HASH, N], 'unexpected', HASH]],
}

for (const name of Object.keys(EXCHANGE_RULES) as MessageRuleName[]) {
  const rule = EXCHANGE_RULES[name]
  const flags = rule.encrypted === 'no' ? 0 : E
  test(`${rule.name}: valid sequences pass; wrong E flag, unknown and foreign payloads, and the named faults are caught`, () => {
    for (const seq of VALID[name]) assert.equal(checkMessage(rule, seq, flags), undefined, `${seq}`)
    if (rule.encrypted === 'yes') assert.deepEqual(checkMessage(rule, VALID[name][0]!, 0), { reason: 'encryption', notify: NotifyType.InvalidFlags })
    if (rule.encrypted === 'no') assert.deepEqual(checkMessage(rule, VALID[name][0]!, E), { reason: 'encryption', notify: NotifyType.InvalidFlags })
    if (rule.encrypted === 'either') assert.equal(checkMessage(rule, VALID[name][0]!, 0), undefined)
    // RFC 2408 §5.2: an unknown Next Payload type is INVALID-PAYLOAD-TYPE.
    assert.deepEqual(checkMessage(rule, [...VALID[name][0]!, 99], flags), { reason: 'unexpected', payloadType: 99, notify: NotifyType.InvalidPayloadType })
    for (const [seq, reason, payloadType] of INVALID[name]) {
      const v = checkMessage(rule, seq, flags)
      assert.deepEqual(v && [v.reason, v.payloadType], [reason, payloadType], `${seq}`)
      assert.equal(v!.notify, NotifyType.PayloadMalformed)
    }
  })
}

test('RFC 2409 §5: nonce payloads MUST be 8..256 bytes', () => {
  for (const [n, ok] of [[7, false], [8, true], [256, true], [257, false]] as const) {
    assert.equal(checkPayload({ payload: 'nonce', data: new Uint8Array(n) }) === undefined, ok, `${n}`)
  }
})

test('RFC 2407 §4.6.2: address ID types carry exactly their address bytes; names are non-empty', () => {
  const id = (idType: number, data: string) => checkPayload({ payload: 'id', idType, protocolId: 0, port: 0, data: fromHex(data) })
  assert.equal(id(1, 'c0000201'), undefined)
  assert.equal(id(1, 'c00002')?.notify, NotifyType.InvalidIdInformation)
  assert.equal(id(4, 'c0000200ffffff00'), undefined)
  assert.equal(id(5, '00'.repeat(16)), undefined)
  assert.equal(id(6, '00'.repeat(16))?.field, 'id.data')
  assert.equal(id(2, '61'), undefined)
  assert.equal(id(3, '')?.field, 'id.data')
  assert.equal(id(12, '61')?.field, 'id.type')
})

test('RFC 3947 §5.2 NAT-OA: IPv4 is 4 bytes, IPv6 16, other ID types refused', () => {
  assert.equal(checkPayload({ payload: 'natOa', draft: false, idType: 1, address: new Uint8Array(4) }), undefined)
  assert.equal(checkPayload({ payload: 'natOa', draft: true, idType: 5, address: new Uint8Array(16) }), undefined)
  assert.equal(checkPayload({ payload: 'natOa', draft: false, idType: 1, address: new Uint8Array(16) })?.field, 'natOa.address')
  assert.equal(checkPayload({ payload: 'natOa', draft: false, idType: 2, address: new Uint8Array(4) })?.field, 'natOa.idType')
})

test('RFC 2408 §3.15 Delete: ISAKMP SPI is the 16-byte cookie pair, ESP/AH 4 bytes, at least one SPI', () => {
  assert.equal(checkPayload({ payload: 'delete', doi: 1, protocolId: 1, spiSize: 16, spis: [new Uint8Array(16)] }), undefined)
  assert.equal(checkPayload({ payload: 'delete', doi: 1, protocolId: 1, spiSize: 8, spis: [new Uint8Array(8)] })?.notify, NotifyType.InvalidSpi)
  assert.equal(checkPayload({ payload: 'delete', doi: 1, protocolId: 3, spiSize: 4, spis: [new Uint8Array(4)] }), undefined)
  assert.equal(checkPayload({ payload: 'delete', doi: 1, protocolId: 3, spiSize: 4, spis: [] })?.field, 'delete.count')
  assert.equal(checkPayload({ payload: 'notify', doi: 1, protocolId: 3, spi: new Uint8Array(3), notifyType: 24576, data: new Uint8Array(0) })?.notify, NotifyType.InvalidSpi)
})

test('RFC 2408 §5.2 header checks: cookie, major version, exchange type, flags', () => {
  const base = { initiatorCookie: fromHex('0102030405060708'), responderCookie: new Uint8Array(8), nextPayload: 1, version: 0x10, exchangeType: 2, flags: 0, messageId: 0, length: 28 }
  assert.equal(checkHeader(base), undefined)
  assert.equal(checkHeader({ ...base, version: 0x11 }), undefined)
  for (const ex of [4, 5, 6, 32]) assert.equal(checkHeader({ ...base, exchangeType: ex }), undefined)
  assert.equal(checkHeader({ ...base, initiatorCookie: new Uint8Array(8) })?.notify, NotifyType.InvalidCookie)
  assert.equal(checkHeader({ ...base, version: 0x20 })?.notify, NotifyType.InvalidMajorVersion)
  assert.equal(checkHeader({ ...base, version: 0x02 })?.notify, NotifyType.InvalidMajorVersion)
  assert.equal(checkHeader({ ...base, exchangeType: 34 })?.notify, NotifyType.InvalidExchangeType) // IKEv2 IKE_SA_INIT
  assert.equal(checkHeader({ ...base, exchangeType: 1 })?.notify, NotifyType.InvalidExchangeType) // Base exchange: not spoken
  assert.equal(checkHeader({ ...base, flags: 0x08 })?.notify, NotifyType.InvalidFlags)
  assert.equal(checkHeader({ ...base, flags: 0x07 }), undefined)
})

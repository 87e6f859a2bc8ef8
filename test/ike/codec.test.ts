// Golden bytes, built by hand from RFC 2408 §3.1–§3.16, RFC 2407 §4.6.2/§4.6.3 and RFC 3947 §3.2/§5.2,
// for the ISAKMP header, SA/Proposal/Transform with TV and TLV attributes, and every payload codec.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fromHex } from '../../src/lib/bytes.js'
import { DecodeError } from '../../src/lib/errors.js'
import { ExchangeType, HeaderFlag, IdType, NotifyType, PayloadType, ProtocolId } from '../../src/ike/v1/constants.js'
import { EncapsulationMode, IpsecAttr, OakleyAttr, baseEncapsulation, isUdpEncapsulated } from '../../src/ike/v1/oakley.js'
import { decodeHeader, peekSpis } from '../../src/ike/v1/message/header.js'
import { attributeNumber, findAttribute, numericAttribute } from '../../src/ike/v1/message/attributes.js'
import { decodeMessage, decodePayloadChain, encodeEncryptedMessage, encodeMessage, encodePayloadChain, payloadBody } from '../../src/ike/v1/message/message.js'
import type { IsakmpPayload } from '../../src/ike/v1/message/payloads.js'
import { loadVectors } from '../crypto/load-vectors.js'

const CKY_I = fromHex('0102030405060708')
const ZERO8 = new Uint8Array(8)
/** RFC 3947 §2: the NAT-T vendor ID is MD5("RFC 3947"). */
const VID_RFC3947 = fromHex('4a131c81070358455c5728f20e95452f')

// Main mode message 1, by hand:
//  header  CKY-I | CKY-R=0 | next=1 (SA) | 0x10 | exch=2 | flags=0 | M-ID=0 | length=108
//  SA      next=13 (VID) len=60 | DOI=1 | SIT_IDENTITY_ONLY=1
//  P       next=0 len=48 | #1 | PROTO_ISAKMP | SPI size 0 | 1 transform
//  T       next=0 len=40 | #1 | KEY_IKE | 0000
//          AES(7) keylen 256 SHA(2) PSK(1) group 14 life-type seconds, life-duration TLV 4 bytes 28800
//  VID     next=0 len=20 | MD5("RFC 3947")
const MM1 = fromHex(`
  0102030405060708 0000000000000000 01 10 02 00 00000000 0000006c
  0d 00 003c 00000001 00000001
  00 00 0030 01 01 00 01
  00 00 0028 01 01 0000
  8001 0007 800e 0100 8002 0002 8003 0001 8004 000e 800b 0001 000c 0004 00007080
  00 00 0014 4a131c81070358455c5728f20e95452f`)

const MM1_PAYLOADS: IsakmpPayload[] = [
  {
    payload: 'sa', doi: 1, situation: 1, proposals: [{
      number: 1, protocolId: ProtocolId.Isakmp, spi: new Uint8Array(0), transforms: [{
        number: 1, transformId: 1, attributes: [
          { type: 1, value: 7 }, { type: 14, value: 256 }, { type: 2, value: 2 }, { type: 3, value: 1 },
          { type: 4, value: 14 }, { type: 11, value: 1 }, { type: 12, value: fromHex('00007080') },
        ],
      }],
    }],
  },
  { payload: 'vendorId', data: VID_RFC3947 },
]

test('RFC 2408 §3.1 header + §3.4–§3.6 SA/Proposal/Transform + §3.3 TV/TLV attributes: main mode 1 decodes', () => {
  const m = decodeMessage(MM1)
  assert.deepEqual(m.header, { initiatorCookie: CKY_I, responderCookie: ZERO8, nextPayload: 1, version: 0x10, exchangeType: ExchangeType.IdentityProtection, flags: 0, messageId: 0, length: 108 })
  assert.deepEqual(m.payloads, MM1_PAYLOADS)
  assert.deepEqual(m.spans.map((s) => [s.payloadType, s.start, s.bodyStart, s.end]), [[1, 28, 32, 88], [13, 88, 92, 108]])
  // SAi_b (RFC 2409 §5) is the SA body without its generic header.
  assert.deepEqual(payloadBody(m.bytes, m.spans[0]!), MM1.subarray(32, 88))
})

test('main mode 1 encodes to the same 108 bytes (Next Payload links and lengths derived)', () => {
  const bytes = encodeMessage({ initiatorCookie: CKY_I, responderCookie: ZERO8, version: 0x10, exchangeType: 2, flags: 0, messageId: 0 }, MM1_PAYLOADS)
  assert.deepEqual(bytes, MM1)
})

test('RFC 2408 §3.3: attributeNumber reads TV and TLV alike; numericAttribute picks TLV above 16 bits', () => {
  const t = (MM1_PAYLOADS[0] as Extract<IsakmpPayload, { payload: 'sa' }>).proposals[0]!.transforms[0]!
  assert.equal(attributeNumber(findAttribute(t.attributes, OakleyAttr.LifeDuration)!), 28800)
  assert.equal(attributeNumber(findAttribute(t.attributes, OakleyAttr.KeyLength)!), 256)
  assert.deepEqual(numericAttribute(OakleyAttr.LifeDuration, 3600), { type: 12, value: 3600 })
  assert.deepEqual(numericAttribute(IpsecAttr.SaLifeDuration, 86400), { type: 2, value: fromHex('00015180') })
  assert.equal(attributeNumber({ type: 2, value: new Uint8Array(7) }), undefined)
})

test('peekSpis reads cookies and message ID without decoding', () => {
  assert.deepEqual(peekSpis(MM1), { initiatorCookie: CKY_I, responderCookie: ZERO8, messageId: 0 })
  assert.equal(peekSpis(MM1.subarray(0, 27)), undefined)
})

const SINGLE: Array<[string, string, IsakmpPayload]> = [
  // §3.7 KE: data only
  ['KE', '00 00 0008 a1a2a3a4', { payload: 'ke', data: fromHex('a1a2a3a4') }],
  // §3.8 + RFC 2407 §4.6.2: ID_IPV4_ADDR, UDP (17), port 500, 192.0.2.1
  ['ID ipv4', '00 00 000c 01 11 01f4 c0000201', { payload: 'id', idType: IdType.Ipv4Addr, protocolId: 17, port: 500, data: fromHex('c0000201') }],
  // ID_FQDN "vpn.example", protocol 0, port 0
  ['ID fqdn', '00 00 0013 02 00 0000 76706e2e6578616d706c65', { payload: 'id', idType: IdType.Fqdn, protocolId: 0, port: 0, data: new TextEncoder().encode('vpn.example') }],
  // RFC 2407 §4.6.2.4 ID_IPV4_ADDR_SUBNET 10.1.0.0/255.255.0.0, L2TP-style protocol 17 port 1701
  ['ID subnet', '00 00 0010 04 11 06a5 0a010000 ffff0000', { payload: 'id', idType: IdType.Ipv4AddrSubnet, protocolId: 17, port: 1701, data: fromHex('0a010000ffff0000') }],
  // §3.9 CERT: X.509 Certificate - Signature (4)
  ['CERT', '00 00 0008 04 308201', { payload: 'cert', encoding: 4, data: fromHex('308201') }],
  // §3.10 CR: X.509 (4), empty authority (any CA)
  ['CR', '00 00 0005 04', { payload: 'cr', encoding: 4, authority: new Uint8Array(0) }],
  ['HASH', '00 00 0008 deadbeef', { payload: 'hash', data: fromHex('deadbeef') }],
  ['SIG', '00 00 0006 0102', { payload: 'sig', data: fromHex('0102') }],
  ['NONCE', '00 00 000c 0001020304050607', { payload: 'nonce', data: fromHex('0001020304050607') }],
  // §3.14 + RFC 2407 §4.6.3.3 INITIAL-CONTACT: DOI 1, PROTO_ISAKMP, SPI = CKY-I | CKY-R (16), type 24578
  ['N initial-contact', '00 00 001c 00000001 01 10 6002 0102030405060708 1112131415161718',
    { payload: 'notify', doi: 1, protocolId: ProtocolId.Isakmp, spi: fromHex('01020304050607081112131415161718'), notifyType: NotifyType.InitialContact, data: new Uint8Array(0) }],
  // RFC 3706 §5: R-U-THERE with a 4-byte sequence number as data
  ['N r-u-there', '00 00 0020 00000001 01 10 8d28 0102030405060708 1112131415161718 00000007',
    { payload: 'notify', doi: 1, protocolId: 1, spi: fromHex('01020304050607081112131415161718'), notifyType: NotifyType.RUThere, data: fromHex('00000007') }],
  // RFC 2407 §4.6.3.1 RESPONDER-LIFETIME: ESP SPI, SA Life Type seconds + Life Duration TLV
  ['N responder-lifetime', '00 00 001c 00000001 03 04 6000 c0ffee01 8001 0001 0002 0004 00000e10',
    { payload: 'notify', doi: 1, protocolId: 3, spi: fromHex('c0ffee01'), notifyType: NotifyType.ResponderLifetime, data: fromHex('80010001000200040000 0e10') }],
  // §3.15 Delete: two ESP SPIs
  ['D', '00 00 0014 00000001 03 04 0002 11111111 22222222', { payload: 'delete', doi: 1, protocolId: 3, spiSize: 4, spis: [fromHex('11111111'), fromHex('22222222')] }],
  ['VID', '00 00 0014 4a131c81070358455c5728f20e95452f', { payload: 'vendorId', data: VID_RFC3947 }],
  // RFC 3947 §3.2 NAT-D (type 20) with a SHA-1 sized hash
  ['NAT-D', '00 00 0018 000102030405060708090a0b0c0d0e0f10111213', { payload: 'natD', draft: false, data: fromHex('000102030405060708090a0b0c0d0e0f10111213') }],
  // RFC 3947 §5.2 NAT-OA: ID_IPV4_ADDR, 192.168.0.1
  ['NAT-OA', '00 00 000c 01 00 0000 c0a80001', { payload: 'natOa', draft: false, idType: 1, address: fromHex('c0a80001') }],
  // IKE fragment (type 132): ID 1, fragment 2 of 2 (LAST_FRAGMENT), 3 bytes of the original datagram
  ['FRAG', '00 00 000b 0001 02 01 aabbcc', { payload: 'fragment', fragmentId: 1, number: 2, flags: 1, data: fromHex('aabbcc') }],
]

for (const [name, hex, payload] of SINGLE) {
  const type = { KE: 4, ID: 5, CERT: 6, CR: 7, HASH: 8, SIG: 9, NONCE: 10, N: 11, D: 12, VID: 13, 'NAT-D': 20, 'NAT-OA': 21, FRAG: 132 }[name.split(' ')[0]!]!
  test(`${name}: hand-built bytes decode and re-encode`, () => {
    const bytes = fromHex(hex)
    const chain = decodePayloadChain(type, bytes, 0, bytes.length, false)
    assert.deepEqual(chain.payloads, [payload])
    assert.deepEqual(encodePayloadChain([payload]), bytes)
  })
}

test('draft NAT-D (130) and NAT-OA (131) keep their draft numbering through a round trip', () => {
  const bytes = fromHex('83 00 0008 aabbccdd 00 00 000c 01 00 0000 0a000001')
  const chain = decodePayloadChain(PayloadType.NatDDraft, bytes, 0, bytes.length, false)
  assert.deepEqual(chain.payloads, [{ payload: 'natD', draft: true, data: fromHex('aabbccdd') }, { payload: 'natOa', draft: true, idType: 1, address: fromHex('0a000001') }])
  assert.deepEqual(encodePayloadChain(chain.payloads), bytes)
})

test('unknown payload types (and Proposal outside an SA) are kept raw for INVALID-PAYLOAD-TYPE', () => {
  const bytes = fromHex('02 00 0006 abcd 00 00 0005 ee')
  const chain = decodePayloadChain(200, bytes, 0, bytes.length, false)
  assert.deepEqual(chain.payloads, [{ payload: 'unknown', payloadType: 200, body: fromHex('abcd') }, { payload: 'unknown', payloadType: 2, body: fromHex('ee') }])
  assert.deepEqual(encodePayloadChain(chain.payloads), bytes)
})

test('quick mode SA: ESP proposal with a 4-byte SPI, AES-CBC, UDP-encapsulated transport (RFC 3947 §5.1)', () => {
  const bytes = fromHex(`00 00 002c 00000001 00000001
    00 00 0020 01 03 04 01 c0ffee01
    00 00 0014 01 0c 0000 8004 0004 8006 0080 8005 0002`)
  const chain = decodePayloadChain(PayloadType.SecurityAssociation, bytes, 0, bytes.length, false)
  const sa = chain.payloads[0]!
  assert.equal(sa.payload, 'sa')
  if (sa.payload !== 'sa') return
  const p = sa.proposals[0]!
  assert.deepEqual([p.protocolId, p.spi, p.transforms[0]!.transformId], [ProtocolId.IpsecEsp, fromHex('c0ffee01'), 12])
  const mode = attributeNumber(findAttribute(p.transforms[0]!.attributes, IpsecAttr.EncapsulationMode)!)!
  assert.equal(mode, EncapsulationMode.UdpTransport)
  assert.equal(isUdpEncapsulated(mode), true)
  assert.equal(baseEncapsulation(mode), 'transport')
  assert.equal(baseEncapsulation(EncapsulationMode.UdpTunnelDraft), 'tunnel')
  assert.deepEqual(encodePayloadChain(chain.payloads), bytes)
})

test('encrypted message: header with E set, Next Payload names the first inner payload, Length covers the body', () => {
  const ct = new Uint8Array(32).fill(0x5a)
  const m = encodeEncryptedMessage({ initiatorCookie: CKY_I, responderCookie: CKY_I, version: 0x10, exchangeType: 32, flags: 0, messageId: 0x01020304 }, PayloadType.Hash, ct)
  const h = decodeHeader(m)
  assert.deepEqual([h.nextPayload, h.flags & HeaderFlag.Encryption, h.messageId, h.length], [8, 1, 0x01020304, 60])
  assert.throws(() => decodeMessage(m), (e: unknown) => e instanceof DecodeError && e.field === 'header.flags')
})

test('decrypted bodies may carry padding after the last payload; plaintext messages may not', () => {
  const body = fromHex('00 00 0008 01020304 000000000000')
  assert.equal(decodePayloadChain(8, body, 0, body.length, true).end, 8)
  assert.throws(() => decodePayloadChain(8, body, 0, body.length, false), DecodeError)
})

const BAD: Array<[string, string]> = [
  ['header shorter than 28 bytes', '0102030405060708 0000000000000000 01 10 02 00 000000'],
  ['Length below 28', '0102030405060708 0000000000000000 00 10 02 00 00000000 0000001b'],
  ['Length beyond the datagram', '0102030405060708 0000000000000000 00 10 02 00 00000000 0000001d'],
  ['payload length below 4', '0102030405060708 0000000000000000 0d 10 02 00 00000000 00000020 00 00 0003'],
  ['payload longer than the message', '0102030405060708 0000000000000000 0d 10 02 00 00000000 00000020 00 00 0008'],
  ['bytes after the last payload', '0102030405060708 0000000000000000 0d 10 02 00 00000000 00000022 00 00 0004 0000'],
  ['SA with DOI 2', '0102030405060708 0000000000000000 01 10 02 00 00000000 00000028 00 00 000c 00000002 00000001'],
  ['SA with SIT_SECRECY', '0102030405060708 0000000000000000 01 10 02 00 00000000 00000028 00 00 000c 00000001 00000002'],
  ['proposal says 2 transforms, has 1', '0102030405060708 0000000000000000 01 10 02 00 00000000 0000003c 00 00 0020 00000001 00000001 00 00 0014 01 01 00 02 00 00 000c 01 01 0000 8001 0007'],
  ['transform Next Payload 5 inside a proposal', '0102030405060708 0000000000000000 01 10 02 00 00000000 0000003c 00 00 0020 00000001 00000001 00 00 0014 01 01 00 01 05 00 000c 01 01 0000 8001 0007'],
  ['TLV attribute longer than the transform', '0102030405060708 0000000000000000 01 10 02 00 00000000 0000003c 00 00 0020 00000001 00000001 00 00 0014 01 01 00 01 00 00 000c 01 01 0000 000c 0009'],
  ['delete count beyond its bytes', '0102030405060708 0000000000000000 0c 10 05 00 00000000 00000028 00 00 000c 00000001 03 04 ffff'],
  ['notify SPI size beyond its bytes', '0102030405060708 0000000000000000 0b 10 05 00 00000000 00000028 00 00 000c 00000001 03 10 000e'],
]
for (const [name, hex] of BAD) {
  test(`DecodeError: ${name}`, () => {
    assert.throws(() => decodeMessage(fromHex(hex)), DecodeError)
  })
}

// Bytes from an independent builder (scapy's ISAKMP layer tests; see test/vectors/ike/scapy-isakmp.json).
const scapy = loadVectors<{ notifications: string; delete: string; saTwoTransforms: string }>('ike', 'scapy-isakmp')

test('scapy: two Notification payloads (INVALID-FLAGS with data "Erreur", then type 0), DOI 0', () => {
  const bytes = fromHex(scapy.notifications)
  const m = decodeMessage(bytes)
  assert.deepEqual(m.payloads, [
    { payload: 'notify', doi: 0, protocolId: 1, spi: new Uint8Array(0), notifyType: NotifyType.InvalidFlags, data: new TextEncoder().encode('Erreur') },
    { payload: 'notify', doi: 0, protocolId: 1, spi: new Uint8Array(0), notifyType: 0, data: new Uint8Array(0) },
  ])
  assert.deepEqual(encodeMessage(m.header, m.payloads), bytes)
})

test('scapy: its Delete writes "# of SPIs" in 1 octet (43-byte payload) where RFC 2408 §3.15 has 2 — refused; ours is 44 bytes', () => {
  const bytes = fromHex(scapy.delete)
  assert.throws(() => decodeMessage(bytes), (e: unknown) => e instanceof DecodeError && e.field === 'delete.spis')
  const spis = [new Uint8Array(16).fill(0x41), new Uint8Array(16).fill(0x42)]
  const ours = encodeMessage({ initiatorCookie: ZERO8, responderCookie: ZERO8, version: 0x10, exchangeType: 0, flags: 0, messageId: 0 }, [{ payload: 'delete', doi: 0, protocolId: 1, spiSize: 16, spis }])
  // Same bytes as scapy's up to the count, which is 00 02 here instead of 02.
  assert.deepEqual(ours.subarray(32, 38), bytes.subarray(32, 38))
  assert.deepEqual(ours.subarray(38, 40), fromHex('0002'))
  assert.deepEqual(ours.subarray(40), bytes.subarray(39))
  assert.equal(ours.length, 72)
})

test('scapy: its SA says "# of Transforms" 0 over a chain of 2 — refused; with the count fixed, a 3-byte TLV life of 86400 decodes', () => {
  const bytes = fromHex(scapy.saTwoTransforms)
  assert.throws(() => decodeMessage(bytes), (e: unknown) => e instanceof DecodeError && e.field === 'proposal.transforms')
  const fixed = new Uint8Array(bytes)
  fixed[28 + 12 + 7] = 2 // proposal's "# of Transforms"
  const sa = decodeMessage(fixed).payloads[0]!
  assert.equal(sa.payload, 'sa')
  if (sa.payload !== 'sa') return
  const [t1, t2] = sa.proposals[0]!.transforms
  assert.equal(attributeNumber(findAttribute(t1!.attributes, OakleyAttr.LifeDuration)!), 86400)
  assert.deepEqual(findAttribute(t1!.attributes, OakleyAttr.LifeDuration)!.value, fromHex('015180'))
  assert.equal(attributeNumber(findAttribute(t2!.attributes, OakleyAttr.EncryptionAlgorithm)!), 5)
  // RESERVED2 (12345 in scapy's second transform) is ignored on input and written as zero.
  assert.notDeepEqual(encodeMessage(decodeMessage(fixed).header, decodeMessage(fixed).payloads), fixed)
})

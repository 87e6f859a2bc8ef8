// IKEv1 endpoint scenarios beyond the basic pair: NAT-T (RFC 3947: NAT-D, float to 4500, UDP-encapsulated
// transport mode), PFS + AES-GCM + tunnel mode (RFC 2409 §5.5, RFC 4106), a silent peer, a refused
// proposal (plain NO-PROPOSAL-CHOSEN), INITIAL-CONTACT (RFC 2407 §4.6.3.3) and quick-mode-only loss.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesEqual, utf8 } from '../../src/lib/bytes.js'
import { decodeMessage, encodeMessage } from '../../src/ike/v1/message/message.js'
import { buildPhase1Transform } from '../../src/ike/v1/proposal/transforms.js'
import { VID_NAT_T_DRAFT_02, VID_NAT_T_RFC3947 } from '../../src/ike/v1/vendor-ids.js'
import { addressBytes } from '../../src/ike/v1/nat-t.js'
import { EncapsulationMode, EspTransformId, OakleyAuth, OakleyEncryption, OakleyGroup, OakleyHash } from '../../src/ike/v1/oakley.js'
import { IkeV1Endpoint } from '../../src/ike/v1/endpoint.js'
import type { IkeV1Event } from '../../src/ike/v1/endpoint.js'
import { ipv4SubnetSelector } from '../../src/ike/v1/tasks/quick-mode.js'
import { splitEspKeyMaterial } from '../../src/esp/algorithms.js'
import { EspOutboundSa } from '../../src/esp/sa-outbound.js'
import { EspInboundSa } from '../../src/esp/sa-inbound.js'
import { fixedRng } from '../helpers/clock.js'
import { I_ADDR, I_PRIVATE, R_ADDR, childOf, pair } from './v1-harness.js'
import type { ChildUp } from './v1-harness.js'

function espRoundTrip(a: ChildUp, b: ChildUp): void {
  const out = new EspOutboundSa({ spi: a.outbound.spi, encryption: a.encryption, ...(a.integrity ? { integrity: a.integrity } : {}), keys: splitEspKeyMaterial(a.encryption, a.integrity, a.outbound.keymat), rng: fixedRng(5) })
  const inb = new EspInboundSa({ spi: b.inbound.spi, encryption: b.encryption, ...(b.integrity ? { integrity: b.integrity } : {}), keys: splitEspKeyMaterial(b.encryption, b.integrity, b.inbound.keymat) })
  const payload = utf8('inner packet')
  const got = inb.decrypt(out.encrypt(payload, 4)!)
  assert.ok(got)
  assert.deepEqual(new Uint8Array(got.payload), payload)
}

test('NAT in front of the initiator: NAT-D detects it, IKE floats to 4500, ESP is UDP-encapsulated transport', () => {
  const p = pair({ nat: true, seed: 100 })
  p.connect()
  p.pump()
  const float = p.events.i.find((e) => e.type === 'natFloat')
  assert.ok(float && float.type === 'natFloat')
  assert.deepEqual(float.peer, { address: R_ADDR, port: 4500 })
  // Main mode 1-4 on 500; from main mode 5 on the initiator talks to 4500 (RFC 3947 §4).
  assert.deepEqual(p.log.slice(0, 4).map((l) => l.to.port), [500, 40000, 500, 40000])
  assert.ok(p.log.slice(4).every((l) => l.to.port === 4500 || l.to.port === 40001))
  const upI = p.events.i.find((e) => e.type === 'ikeUp'), upR = p.events.r.find((e) => e.type === 'ikeUp')
  assert.ok(upI?.type === 'ikeUp' && upR?.type === 'ikeUp')
  assert.deepEqual(upI.natT, { dialect: 'rfc3947', localBehindNat: true, peerBehindNat: false })
  assert.deepEqual(upR.natT, { dialect: 'rfc3947', localBehindNat: false, peerBehindNat: true })
  const [ci] = childOf(p.events.i), [cr] = childOf(p.events.r)
  assert.ok(ci && cr)
  assert.equal(ci.encapsulation, EncapsulationMode.UdpTransport)
  assert.equal(cr.encapsulation, EncapsulationMode.UdpTransport)
  assert.equal(ci.natT && cr.natT, true)
  // The responder answers the port it actually sees (the NAT mapping of 4500).
  assert.deepEqual(cr.peer, { address: I_ADDR, port: 40001 })
  assert.deepEqual(cr.selectors?.remote.data, addressBytes(I_PRIVATE))
  espRoundTrip(ci, cr)
  espRoundTrip(cr, ci)
})

test('tunnel mode with PFS (MODP 2048) and AES-GCM-16: both sides agree and the keys work', () => {
  const gcm = [{ transformId: EspTransformId.AesGcm16, keyLength: 256, seconds: 3600 }]
  const p = pair({ seed: 110, rExtra: { mode: 'tunnel' } })
  p.connect({
    mode: 'tunnel', proposals: gcm, pfsGroup: OakleyGroup.Modp2048,
    selectors: { local: ipv4SubnetSelector(Uint8Array.of(198, 19, 1, 0), 24), remote: ipv4SubnetSelector(Uint8Array.of(198, 19, 2, 0), 24) },
  })
  p.pump()
  const [ci] = childOf(p.events.i), [cr] = childOf(p.events.r)
  assert.ok(ci && cr)
  assert.equal(ci.mode, 'tunnel')
  assert.equal(ci.pfs && cr.pfs, true)
  assert.equal(ci.encryption.name, 'aes-gcm16-256')
  assert.equal(ci.integrity, undefined)
  assert.equal(ci.encapsulation, EncapsulationMode.Tunnel)
  assert.deepEqual(cr.selectors?.local.data, Uint8Array.of(198, 19, 2, 0, 255, 255, 255, 0))
  assert.deepEqual(ci.outbound.keymat, cr.inbound.keymat)
  espRoundTrip(ci, cr)
  espRoundTrip(cr, ci)
})

test('a responder set to tunnel mode refuses a transport proposal: the initiator learns it, no child SA', () => {
  const p = pair({ seed: 120, rExtra: { mode: 'tunnel' } })
  p.connect()
  p.pump()
  assert.equal(childOf(p.events.i).length + childOf(p.events.r).length, 0)
  assert.ok(p.events.r.some((e) => e.type === 'childSaFailed' && /no proposal chosen/.test(e.reason)))
  assert.ok(p.events.i.some((e) => e.type === 'childSaFailed' && e.reason === 'the peer refused: NoProposalChosen'), JSON.stringify(p.events.i))
  // The IKE SA stays up on both sides, and nothing is left to retransmit.
  assert.equal(p.i.saCount, 1); assert.equal(p.r.saCount, 1)
  // Only the DPD and lifetime timers remain (RFC 3706 interval 30 s), no retransmission.
  assert.ok(p.i.nextTimeout()! - p.clock.now >= 30_000)
})

test('a silent responder: the initiator retransmits main mode 1 with back-off, then gives up with a reason', () => {
  const p = pair({ seed: 130, extra: { retransmit: { firstMs: 1000, factor: 2, tries: 3 } } })
  p.connect()
  const t0 = p.clock.now
  const sent: number[] = []
  for (let k = 0; k < 10; k++) {
    for (let t = p.i.pollTransmit(); t; t = p.i.pollTransmit()) sent.push(p.clock.now - t0)
    const d = p.i.nextTimeout()
    if (d === undefined) break
    p.clock.now = d
    p.i.handleTimeout(p.clock.now)
  }
  assert.deepEqual(sent, [0, 1000, 3000, 7000])
  const closed = p.i.pollEvent()
  assert.ok(closed?.type === 'closed' && /no answer to main mode 1 after 3/.test(closed.reason), JSON.stringify(closed))
  assert.equal(p.i.saCount, 0)
})

test('no acceptable phase 1 proposal: the responder answers NO-PROPOSAL-CHOSEN in the clear and both close', () => {
  const p = pair({ seed: 140, rExtra: { acceptPhase1: (t) => t.encryption === OakleyEncryption.AesCbc && t.hash === OakleyHash.Sha2_512 } })
  p.connect()
  p.pump()
  assert.equal(p.log.length, 2)
  const ci = p.events.i.find((e) => e.type === 'closed'), cr = p.events.r.find((e) => e.type === 'closed')
  assert.ok(ci?.type === 'closed' && ci.reason === 'the peer refused: NoProposalChosen', JSON.stringify(ci))
  assert.ok(cr?.type === 'closed' && /no proposal chosen/.test(cr.reason))
  assert.equal(p.r.saCount, 0)
})

test('phase 1 with 3DES / SHA-1 / MODP 1024 (old Windows) when that is all the initiator offers', () => {
  const p = pair({ seed: 150, iExtra: { phase1Proposals: [{ encryption: OakleyEncryption.TripleDesCbc, hash: OakleyHash.Sha1, authMethod: OakleyAuth.PreSharedKey, group: OakleyGroup.Modp1024 }] } })
  p.connect()
  p.pump()
  assert.equal(childOf(p.events.i).length, 1)
  assert.equal(childOf(p.events.r).length, 1)
})

test('INITIAL-CONTACT from a restarted client replaces its old SA (and child SAs) on the responder', () => {
  const p = pair({ seed: 160 })
  p.connect()
  p.pump()
  assert.equal(p.r.saCount, 1)
  // The client restarts: a fresh endpoint (same address and identity) sends INITIAL-CONTACT in main mode 5.
  const fresh = new IkeV1Endpoint({ local: { address: I_ADDR, port: 500 }, rng: fixedRng(999), psk: () => utf8('shared secret') })
  fresh.connect(p.clock.now, { address: R_ADDR, port: 500 }, { mode: 'transport' })
  const evs: IkeV1Event[] = []
  for (let k = 0; k < 20; k++) {
    for (let t = fresh.pollTransmit(); t; t = fresh.pollTransmit()) p.r.handleDatagram(p.clock.now, t.data, { address: I_ADDR, port: 500 })
    for (let t = p.r.pollTransmit(); t; t = p.r.pollTransmit()) fresh.handleDatagram(p.clock.now, t.data, { address: R_ADDR, port: 500 })
  }
  for (let e = p.r.pollEvent(); e; e = p.r.pollEvent()) evs.push(e)
  assert.ok(evs.some((e) => e.type === 'childSaDown' && /INITIAL-CONTACT/.test(e.reason)))
  assert.ok(evs.some((e) => e.type === 'closed' && /INITIAL-CONTACT/.test(e.reason)))
  assert.equal(evs.filter((e) => e.type === 'childSaUp').length, 1)
  assert.equal(p.r.saCount, 1)
})

test('quick mode 3 lost twice: the responder retransmits quick mode 2 and the cached quick mode 3 answers it', () => {
  const p = pair({ seed: 170 })
  p.connect()
  let qm3Drops = 0
  p.settle((n, from) => (n >= 8 && from === 'i' && qm3Drops++ < 2 ? 'drop' : 'ok'))
  assert.equal(childOf(p.events.i).length, 1)
  assert.equal(childOf(p.events.r).length, 1)
  assert.ok((p.r.counters()['tx:retransmit'] ?? 0) >= 2)
})

test('main mode 1 from a draft-02 NAT-T client: the responder answers with the same draft vendor ID', () => {
  const r = new IkeV1Endpoint({ local: { address: R_ADDR, port: 500 }, rng: fixedRng(7), psk: () => utf8('k') })
  const t = buildPhase1Transform(1, { encryption: OakleyEncryption.AesCbc, keyLength: 128, hash: OakleyHash.Sha1, authMethod: OakleyAuth.PreSharedKey, group: OakleyGroup.Modp2048 })
  const mm1 = encodeMessage({ initiatorCookie: fixedRng(8).bytes(8), responderCookie: new Uint8Array(8), version: 0x10, exchangeType: 2, flags: 0, messageId: 0 }, [
    { payload: 'sa', doi: 1, situation: 1, proposals: [{ number: 1, protocolId: 1, spi: new Uint8Array(0), transforms: [t] }] },
    { payload: 'vendorId', data: VID_NAT_T_DRAFT_02 },
  ])
  r.handleDatagram(0, mm1, { address: I_ADDR, port: 500 })
  const mm2 = decodeMessage(r.pollTransmit()!.data)
  const vids = mm2.payloads.flatMap((p) => (p.payload === 'vendorId' ? [p.data] : []))
  assert.ok(vids.some((v) => bytesEqual(v, VID_NAT_T_DRAFT_02)))
  assert.ok(!vids.some((v) => bytesEqual(v, VID_NAT_T_RFC3947)))
  const sa = mm2.payloads[0]
  assert.ok(sa?.payload === 'sa' && sa.proposals.length === 1 && sa.proposals[0]!.transforms.length === 1)
  assert.deepEqual(sa.proposals[0]!.transforms[0], t, 'the chosen transform is echoed unchanged (RFC 2408 §4.2)')
})

test('an inbound SPI the ESP side already uses is never chosen again', () => {
  const ref = pair({ seed: 180 })
  ref.connect(); ref.pump()
  const taken = childOf(ref.events.r)[0]!.inbound.spi
  const p = pair({ seed: 180, rExtra: { inboundSpiInUse: (spi) => spi === taken } })
  p.connect(); p.pump()
  const [ci, cr] = [childOf(p.events.i)[0]!, childOf(p.events.r)[0]!]
  assert.notEqual(cr.inbound.spi, taken)
  assert.equal(ci.outbound.spi, cr.inbound.spi)
  espRoundTrip(ci, cr)
})

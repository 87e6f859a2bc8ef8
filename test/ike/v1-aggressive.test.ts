// Pair tests for IKEv1 aggressive mode with pre-shared keys (RFC 2409 §5.4): AM1..AM3 + quick mode, the
// PSK chosen by the initiator's ID, a wrong PSK, a responder without the option (INVALID-EXCHANGE-TYPE),
// NAT (NAT-D in AM2/AM3, RFC 3947 §3.2, float on AM3), every single loss, duplication, half-open bounds.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesEqual, utf8 } from '../../src/lib/bytes.js'
import type { Endpoint } from '../../src/lib/endpoint.js'
import { AGGRESSIVE_MODE_WARNING } from '../../src/ike/v1/endpoint.js'
import type { ChildSaRequest } from '../../src/ike/v1/endpoint.js'
import type { IkeIdentity } from '../../src/ike/v1/ike-sa.js'
import { ExchangeType, HeaderFlag, IdType, PayloadType } from '../../src/ike/v1/constants.js'
import { decodeHeader } from '../../src/ike/v1/message/header.js'
import { decodeMessage, encodeMessage } from '../../src/ike/v1/message/message.js'
import { openMessage } from '../../src/ike/v1/crypto/protect.js'
import type { IkeSaV1 } from '../../src/ike/v1/ike-sa.js'
import { EncapsulationMode } from '../../src/ike/v1/oakley.js'
import { addressBytes } from '../../src/ike/v1/nat-t.js'
import { fqdnIdentity } from '../../src/ike/v1/tasks/main-mode.js'
import { hostSelector } from '../../src/ike/v1/tasks/quick-mode.js'
import { fixedRng } from '../helpers/clock.js'
import { I_ADDR, I_PRIVATE, R_ADDR, childOf, pair } from './v1-harness.js'
import type { PairOptions } from './v1-harness.js'

const ROAD = fqdnIdentity('road.example')
const l2tp = (iLocal: string): ChildSaRequest => ({ mode: 'transport', selectors: { local: hostSelector(addressBytes(iLocal), 17, 1701), remote: hostSelector(addressBytes(R_ADDR), 17, 1701) } })
function amPair(o: PairOptions & { id?: IkeIdentity } = {}) {
  const p = pair({ ...o, rExtra: { aggressive: true, ...o.rExtra } })
  const start = () => p.i.connect(p.clock.now, { address: R_ADDR, port: 500 }, l2tp(o.nat ? I_PRIVATE : I_ADDR), { aggressive: true, ...(o.id ? { id: o.id } : {}) })
  return { ...p, start }
}
const types = (data: Uint8Array): number[] => decodeMessage(data).spans.map((s) => s.payloadType)

test('AGGRESSIVE_MODE_WARNING names the offline crack and the way out', () => {
  assert.match(AGGRESSIVE_MODE_WARNING, /HASH_R/)
  assert.match(AGGRESSIVE_MODE_WARNING, /offline/)
  assert.match(AGGRESSIVE_MODE_WARNING, /main mode or certificates/)
})

test('aggressive mode + quick mode: AM1 SA KE Ni ID, AM2 adds HASH_R in clear, AM3 encrypted; both up, keys mirror', () => {
  const p = amPair({ seed: 200 })
  p.start()
  p.pump()
  assert.equal(p.log.map((l) => l.from).join(''), 'iriiri', 'AM1..AM3 + QM1..QM3')
  const [am1, am2, am3] = p.log.map((l) => l.data)
  for (const m of [am1!, am2!, am3!]) assert.equal(decodeHeader(m).exchangeType, ExchangeType.Aggressive)
  assert.deepEqual(types(am1!).slice(0, 4), [PayloadType.SecurityAssociation, PayloadType.KeyExchange, PayloadType.Nonce, PayloadType.Identification])
  assert.deepEqual(types(am2!).slice(0, 5), [PayloadType.SecurityAssociation, PayloadType.KeyExchange, PayloadType.Nonce, PayloadType.Identification, PayloadType.Hash])
  assert.equal(decodeHeader(am2!).flags & HeaderFlag.Encryption, 0, 'HASH_R travels in clear: why the warning exists')
  assert.equal(decodeHeader(am3!).flags & HeaderFlag.Encryption, HeaderFlag.Encryption)
  for (const side of [p.events.i, p.events.r]) assert.equal(side.filter((e) => e.type === 'ikeUp').length, 1)
  const [ci] = childOf(p.events.i), [cr] = childOf(p.events.r)
  assert.ok(ci && cr)
  assert.deepEqual(ci.outbound.keymat, cr.inbound.keymat)
  assert.deepEqual(ci.inbound.keymat, cr.outbound.keymat)
  assert.deepEqual(cr.peerId.data, addressBytes(I_ADDR))
})

test('aggressive mode: the responder looks the PSK up by the ID of AM1; an unknown ID gets no answer and no hint', () => {
  const seen: (IkeIdentity | undefined)[] = []
  const psk = (_peer: Endpoint, id?: IkeIdentity) => { seen.push(id); return id && id.idType === IdType.Fqdn && bytesEqual(id.data, ROAD.data) ? utf8('road secret') : undefined }
  const p = amPair({ seed: 210, iPsk: 'road secret', id: ROAD, rExtra: { psk } })
  p.start()
  p.pump()
  assert.equal(childOf(p.events.r).length, 1)
  assert.deepEqual(seen[0], { idType: IdType.Fqdn, data: ROAD.data })
  const up = p.events.r.find((e) => e.type === 'ikeUp')
  assert.ok(up && up.type === 'ikeUp' && bytesEqual(up.peerId.data, ROAD.data))

  const q = amPair({ seed: 211, iPsk: 'road secret', id: fqdnIdentity('stranger.example'), rExtra: { psk } })
  q.start()
  q.settle()
  assert.equal(q.log.filter((l) => l.from === 'r').length, 0, 'no AM2, no notify for an ID without a key')
  const ci = q.events.i.find((e) => e.type === 'closed')
  assert.ok(ci && ci.type === 'closed' && /timeout: no answer to aggressive mode 1/.test(ci.reason), JSON.stringify(ci))
  assert.equal(q.r.saCount + q.i.saCount, 0)
})

test('aggressive mode with a wrong PSK: the initiator refuses HASH_R at once, sends nothing more; the responder times out', () => {
  const p = amPair({ seed: 220, rPsk: 'another secret' })
  p.start()
  p.settle()
  assert.equal(childOf(p.events.i).length + childOf(p.events.r).length, 0)
  const ci = p.events.i.find((e) => e.type === 'closed'), cr = p.events.r.find((e) => e.type === 'closed')
  assert.ok(ci && ci.type === 'closed' && /HASH_R does not verify/.test(ci.reason), JSON.stringify(ci))
  assert.ok(cr && cr.type === 'closed' && /aggressive mode/.test(cr.reason), JSON.stringify(cr))
  assert.equal(p.log.filter((l) => l.from === 'i').length, 1, 'only AM1 left the initiator')
  assert.equal(p.i.saCount + p.r.saCount, 0)
})

test('a responder without `aggressive` answers AM1 with a plain INVALID-EXCHANGE-TYPE, keeps no state, counts it', () => {
  const p = pair({ seed: 230 })
  p.i.connect(p.clock.now, { address: R_ADDR, port: 500 }, undefined, { aggressive: true })
  p.settle()
  assert.equal(p.r.counters()['refused:aggressive-mode'], 1)
  assert.equal(p.r.saCount, 0)
  const reply = p.log.find((l) => l.from === 'r')!
  const m = decodeMessage(reply.data)
  assert.equal(m.header.exchangeType, ExchangeType.Informational)
  assert.ok(reply.data.length < p.log[0]!.data.length, 'no amplification')
  const ci = p.events.i.find((e) => e.type === 'closed')
  assert.ok(ci && ci.type === 'closed' && /InvalidExchangeType/.test(ci.reason), JSON.stringify(ci))
  // Main mode still works on the same responder.
  p.connect()
  p.pump()
  assert.equal(childOf(p.events.r).length, 1)
})

test('aggressive mode through a NAT: NAT-D in AM2 and AM3, AM3 on 4500, UDP-encapsulated transport', () => {
  const p = amPair({ seed: 240, nat: true })
  p.start()
  p.pump()
  const float = p.events.i.find((e) => e.type === 'natFloat')
  assert.ok(float && float.type === 'natFloat')
  assert.deepEqual(p.log.slice(0, 3).map((l) => l.to.port), [500, 40000, 4500])
  assert.ok(types(p.log[1]!.data).includes(PayloadType.NatD))
  const upI = p.events.i.find((e) => e.type === 'ikeUp'), upR = p.events.r.find((e) => e.type === 'ikeUp')
  assert.ok(upI?.type === 'ikeUp' && upR?.type === 'ikeUp')
  assert.deepEqual(upI.natT, { dialect: 'rfc3947', localBehindNat: true, peerBehindNat: false })
  assert.deepEqual(upR.natT, { dialect: 'rfc3947', localBehindNat: false, peerBehindNat: true })
  const [ci] = childOf(p.events.i), [cr] = childOf(p.events.r)
  assert.ok(ci && cr)
  assert.equal(cr.encapsulation, EncapsulationMode.UdpTransport)
  assert.deepEqual(cr.peer, { address: I_ADDR, port: 40001 })
})

test('aggressive mode: every single lost message is recovered (AM2 is repeated by the responder until AM3)', () => {
  for (let lost = 0; lost < 6; lost++) {
    const p = amPair({ seed: 250 + lost })
    p.start()
    p.settle((n) => (n === lost ? 'drop' : 'ok'))
    assert.equal(childOf(p.events.i).length, 1, `initiator child up with message ${lost} lost`)
    assert.equal(childOf(p.events.r).length, 1, `responder child up with message ${lost} lost`)
    const [ci] = childOf(p.events.i), [cr] = childOf(p.events.r)
    assert.deepEqual(ci!.outbound.keymat, cr!.inbound.keymat)
    assert.equal(p.events.i.filter((e) => e.type === 'closed').length + p.events.r.filter((e) => e.type === 'closed').length, 0)
  }
})

test('aggressive mode: duplicated messages are answered from the reply cache, never processed twice', () => {
  const p = amPair({ seed: 260 })
  p.start()
  p.pump(() => 'dup')
  assert.equal(childOf(p.events.i).length, 1)
  assert.equal(childOf(p.events.r).length, 1)
  assert.ok((p.r.counters()['rx:retransmission'] ?? 0) >= 2)
})

test('aggressive mode: half-open bounds apply; hostile datagrams at every stage never throw', () => {
  const p = amPair({ seed: 270, extra: { halfOpenPerAddress: 3 } })
  for (let k = 0; k < 6; k++) p.i.connect(p.clock.now, { address: R_ADDR, port: 500 }, undefined, { aggressive: true })
  for (let t = p.i.pollTransmit(); t; t = p.i.pollTransmit()) p.r.handleDatagram(p.clock.now, t.data, { address: I_ADDR, port: 500 })
  assert.equal(p.r.counters()['drop:half-open-limit'], 3)
  const q = amPair({ seed: 271 })
  q.start()
  q.pump()
  for (const { data } of q.log) {
    for (let bit = 0; bit < data.length * 8; bit += 13) {
      const f = new Uint8Array(data); f[bit >> 3]! ^= 1 << (bit & 7)
      q.r.handleDatagram(q.clock.now, f, { address: I_ADDR, port: 500 }); q.i.handleDatagram(q.clock.now, f, { address: R_ADDR, port: 500 })
    }
  }
  const junk = fixedRng(5)
  for (let k = 0; k < 100; k++) q.r.handleDatagram(q.clock.now, junk.bytes(k), { address: I_ADDR, port: 500 })
  assert.equal(q.r.counters()['error:internal'] ?? 0, 0)
  assert.equal(q.i.counters()['error:internal'] ?? 0, 0)
})

test('a plain AM3 (RFC 2409 §5.4 draws it unencrypted) is accepted as well as an encrypted one', () => {
  const p = amPair({ seed: 280 })
  p.start()
  // AM1, AM2 only; AM3 (log index 2) is held back.
  p.pump((n) => (n === 2 ? 'drop' : 'ok'))
  const am3 = p.log[2]!.data
  assert.equal(decodeHeader(am3).flags & HeaderFlag.Encryption, HeaderFlag.Encryption)
  // The same payloads in clear, opened with the responder's own phase 1 key and IV.
  const entries = (p.r as unknown as { m: { entries: Map<string, { sa: IkeSaV1 }> } }).m.entries
  const sa = [...entries.values()][0]!.sa
  const opened = openMessage(am3, sa.keys!.cipher, sa.keys!.encKey, sa.iv!)
  const h = decodeHeader(am3)
  const plain = encodeMessage({ initiatorCookie: h.initiatorCookie, responderCookie: h.responderCookie, version: h.version, exchangeType: h.exchangeType, flags: 0, messageId: 0 }, opened.payloads)
  p.r.handleDatagram(p.clock.now, plain, { address: I_ADDR, port: 500 })
  for (let e = p.r.pollEvent(); e; e = p.r.pollEvent()) p.events.r.push(e)
  const up = p.events.r.find((e) => e.type === 'ikeUp')
  assert.ok(up && up.type === 'ikeUp', JSON.stringify(p.r.counters()))
  // A forged plain AM3 (HASH_I flipped) would have been counted and ignored instead.
  const q = amPair({ seed: 281 })
  q.start()
  q.pump((n) => (n === 2 ? 'drop' : 'ok'))
  const qsa = [...(q.r as unknown as { m: { entries: Map<string, { sa: IkeSaV1 }> } }).m.entries.values()][0]!.sa
  const qo = openMessage(q.log[2]!.data, qsa.keys!.cipher, qsa.keys!.encKey, qsa.iv!)
  const forged = qo.payloads.map((x) => (x.payload === 'hash' ? { ...x, data: x.data.map((b) => b ^ 1) } : x))
  const qh = decodeHeader(q.log[2]!.data)
  q.r.handleDatagram(q.clock.now, encodeMessage({ initiatorCookie: qh.initiatorCookie, responderCookie: qh.responderCookie, version: qh.version, exchangeType: qh.exchangeType, flags: 0, messageId: 0 }, forged), { address: I_ADDR, port: 500 })
  assert.equal(q.r.counters()['drop:auth:hash_i'], 1)
  assert.equal(q.r.pollEvent(), undefined)
})

test('an aggressive-mode ISAKMP SA is re-established before expiry in aggressive mode again, with the same ID', () => {
  const seen: (IkeIdentity | undefined)[] = []
  const psk = (_peer: Endpoint, id?: IkeIdentity) => { seen.push(id); return id && bytesEqual(id.data, ROAD.data) ? utf8('road secret') : undefined }
  const p = amPair({ seed: 290, iPsk: 'road secret', id: ROAD, extra: { ikeLifetimeSeconds: 3000 }, rExtra: { psk } })
  p.start()
  p.pump()
  const up = p.clock.now
  const mark = p.log.length
  // Timers forward to past the re-establishment point (3000 s minus the 9 min margin, minus up to 10% of it).
  for (let k = 0; k < 10_000; k++) {
    const d = [p.i.nextTimeout(), p.r.nextTimeout()].filter((x): x is number => x !== undefined)
    const next = Math.max(p.clock.now, d.length > 0 ? Math.min(...d) : Infinity)
    if (next > up + 2_600_000) break
    p.clock.now = next
    p.i.handleTimeout(next); p.r.handleTimeout(next)
    p.pump()
  }
  const ups = p.events.i.filter((e) => e.type === 'ikeUp')
  assert.equal(ups.length, 2, 're-established')
  const phase1 = p.log.slice(mark).filter((l) => l.data.length >= 28 && decodeHeader(l.data).messageId === 0 && decodeHeader(l.data).exchangeType !== ExchangeType.Informational)
  assert.ok(phase1.length >= 3 && phase1.every((l) => decodeHeader(l.data).exchangeType === ExchangeType.Aggressive), 'aggressive mode again, not main mode')
  assert.equal(seen.filter((id) => id && bytesEqual(id.data, ROAD.data)).length, 2, 'the responder looked the key up by the same ID twice')
})

test('main mode passes no ID to psk() (keys are derived before IDs arrive, RFC 2409 §5.4)', () => {
  const calls: unknown[][] = []
  const p = pair({ seed: 295, rExtra: { psk: (...a: unknown[]) => { calls.push(a); return utf8('shared secret') } } })
  p.connect()
  p.pump()
  assert.equal(childOf(p.events.r).length, 1)
  assert.ok(calls.length >= 1 && calls.every((a) => a.length === 1), JSON.stringify(calls.map((a) => a.length)))
})

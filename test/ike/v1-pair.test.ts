// Pair test: IkeV1Endpoint initiator <-> responder in memory with a manual clock. Main mode (PSK,
// RFC 2409 §5.4) + quick mode (§5.5) to childSaUp on both sides, the KEYMAT directions proven with a
// real ESP packet (RFC 4303), then loss, duplication, a wrong PSK and garbage input.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { utf8 } from '../../src/lib/bytes.js'
import type { Endpoint } from '../../src/lib/endpoint.js'
import { addressBytes } from '../../src/ike/v1/nat-t.js'
import { splitEspKeyMaterial } from '../../src/esp/algorithms.js'
import { EspOutboundSa } from '../../src/esp/sa-outbound.js'
import { EspInboundSa } from '../../src/esp/sa-inbound.js'
import { fixedRng } from '../helpers/clock.js'
import { I_ADDR, R_ADDR, childOf, pair } from './v1-harness.js'


test('main mode + quick mode: both sides up, keys mirror each other, and a real ESP packet crosses', () => {
  const p = pair()
  p.connect()
  p.pump()
  assert.equal(p.log.length, 9, 'MM1..MM6 + QM1..QM3')
  assert.deepEqual(p.log.map((l) => l.from).join(''), 'iriririri')
  for (const side of [p.events.i, p.events.r]) assert.equal(side.filter((e) => e.type === 'ikeUp').length, 1)
  const [ci] = childOf(p.events.i), [cr] = childOf(p.events.r)
  assert.ok(ci && cr)
  assert.equal(ci.mode, 'transport'); assert.equal(cr.mode, 'transport')
  assert.equal(ci.natT, false)
  assert.equal(ci.outbound.spi, cr.inbound.spi)
  assert.equal(ci.inbound.spi, cr.outbound.spi)
  assert.deepEqual(ci.outbound.keymat, cr.inbound.keymat)
  assert.deepEqual(ci.inbound.keymat, cr.outbound.keymat)
  assert.notDeepEqual(ci.inbound.keymat, ci.outbound.keymat)
  assert.equal(ci.encryption.name, 'aes-cbc-256')
  assert.equal(ci.integrity?.name, 'hmac-sha1-96')
  assert.deepEqual(cr.selectors?.remote.data, addressBytes(I_ADDR))
  assert.equal(cr.selectors?.remote.port, 1701)
  const ikeUpR = p.events.r.find((e) => e.type === 'ikeUp')
  assert.ok(ikeUpR && ikeUpR.type === 'ikeUp')
  assert.deepEqual(ikeUpR.peerId.data, addressBytes(I_ADDR))

  for (const [a, b] of [[ci, cr], [cr, ci]] as const) {
    const out = new EspOutboundSa({ spi: a.outbound.spi, encryption: a.encryption, ...(a.integrity ? { integrity: a.integrity } : {}), keys: splitEspKeyMaterial(a.encryption, a.integrity, a.outbound.keymat), rng: fixedRng(9) })
    const inb = new EspInboundSa({ spi: b.inbound.spi, encryption: b.encryption, ...(b.integrity ? { integrity: b.integrity } : {}), keys: splitEspKeyMaterial(b.encryption, b.integrity, b.inbound.keymat) })
    const payload = utf8('an L2TP datagram inside UDP 1701')
    const packet = out.encrypt(payload, 17)!
    const got = inb.decrypt(packet)
    assert.ok(got, 'the receiver opens what the sender sealed')
    assert.deepEqual(new Uint8Array(got.payload), payload)
    assert.equal(got.nextHeader, 17)
  }
})

test('every single lost message is recovered by retransmission or the reply cache', () => {
  for (let lost = 0; lost < 9; lost++) {
    const p = pair({ seed: 10 + lost })
    p.connect()
    p.settle((n) => (n === lost ? 'drop' : 'ok'))
    assert.equal(childOf(p.events.i).length, 1, `initiator child up with message ${lost} lost`)
    assert.equal(childOf(p.events.r).length, 1, `responder child up with message ${lost} lost`)
    const [ci] = childOf(p.events.i), [cr] = childOf(p.events.r)
    assert.deepEqual(ci!.outbound.keymat, cr!.inbound.keymat)
    assert.equal(p.events.i.filter((e) => e.type === 'closed').length, 0)
  }
})

test('duplicated messages are answered from the reply cache, never processed twice', () => {
  const p = pair({ seed: 30 })
  p.connect()
  p.pump(() => 'dup')
  assert.equal(childOf(p.events.i).length, 1)
  assert.equal(childOf(p.events.r).length, 1)
  assert.ok((p.r.counters()['rx:retransmission'] ?? 0) >= 4)
  assert.ok((p.i.counters()['rx:retransmission'] ?? 0) >= 1)
  const [ci] = childOf(p.events.i), [cr] = childOf(p.events.r)
  assert.deepEqual(ci!.outbound.keymat, cr!.inbound.keymat)
})

test('a wrong pre-shared key fails on both sides with a reason; the responder never answers main mode 5', () => {
  const p = pair({ rPsk: 'another secret', seed: 40 })
  p.connect()
  p.settle()
  assert.equal(childOf(p.events.i).length + childOf(p.events.r).length, 0)
  assert.equal(p.events.i.some((e) => e.type === 'ikeUp') || p.events.r.some((e) => e.type === 'ikeUp'), false)
  const ci = p.events.i.find((e) => e.type === 'closed'), cr = p.events.r.find((e) => e.type === 'closed')
  assert.ok(ci && ci.type === 'closed' && /main mode 5/.test(ci.reason), JSON.stringify(ci))
  assert.ok(cr && cr.type === 'closed' && /authentication failed/.test(cr.reason), JSON.stringify(cr))
  assert.equal(p.log.filter((l) => l.from === 'r').length, 2, 'only MM2 and MM4 ever left the responder')
  assert.equal(p.i.saCount + p.r.saCount, 0)
})

test('garbage, truncated and bit-flipped datagrams never throw and are counted', () => {
  const p = pair({ seed: 50 })
  p.connect()
  p.pump()
  const rng = fixedRng(77)
  const from: Endpoint = { address: '198.18.9.9', port: 500 }
  for (let k = 0; k < 300; k++) {
    const junk = rng.bytes(k % 120)
    p.r.handleDatagram(p.clock.now, junk, from); p.i.handleDatagram(p.clock.now, junk, from)
  }
  for (const { data } of p.log) {
    for (let cut = 0; cut < data.length; cut += 7) { p.r.handleDatagram(p.clock.now, data.subarray(0, cut), from); p.i.handleDatagram(p.clock.now, data.subarray(0, cut), from) }
    for (let bit = 0; bit < data.length * 8; bit += 29) {
      const f = new Uint8Array(data); f[bit >> 3]! ^= 1 << (bit & 7)
      p.r.handleDatagram(p.clock.now, f, { address: I_ADDR, port: 500 }); p.i.handleDatagram(p.clock.now, f, { address: R_ADDR, port: 500 })
    }
  }
  assert.equal(p.r.counters()['error:internal'] ?? 0, 0)
  assert.equal(p.i.counters()['error:internal'] ?? 0, 0)
  // The established SAs survive the noise.
  assert.equal(p.events.i.filter((e) => e.type === 'closed').length, 0)
})

test('half-open SAs from one source address are bounded', () => {
  const p = pair({ seed: 60, extra: { halfOpenPerAddress: 3 } })
  for (let k = 0; k < 6; k++) p.i.connect(p.clock.now, { address: R_ADDR, port: 500 })
  for (let t = p.i.pollTransmit(); t; t = p.i.pollTransmit()) p.r.handleDatagram(p.clock.now, t.data, { address: I_ADDR, port: 500 })
  assert.equal(p.r.saCount, 3)
  assert.equal(p.r.counters()['drop:half-open-limit'], 3)
})

test('DELETE of the ISAKMP SA takes its child SAs down on the peer', () => {
  const p = pair({ seed: 70 })
  const name = p.connect()
  p.pump()
  p.i.deleteIkeSa(p.clock.now, name)
  p.pump()
  const down = p.events.r.filter((e) => e.type === 'childSaDown')
  assert.equal(down.length, 1)
  assert.ok(p.events.r.some((e) => e.type === 'closed' && e.reason === 'deleted by the peer'))
  assert.equal(p.r.saCount, 0)
  assert.equal(p.i.saCount, 0)
})

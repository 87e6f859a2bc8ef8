// IKE fragmentation in the IKEv1 manager (Cisco/Microsoft style, as Windows sends certificate main mode):
// certificate MM5/MM6 go out in type-132 fragments and are reassembled before decryption; out-of-order and
// lost fragments, a fragment that never comes (timeout), a replayed fragmented MM5 (same MM6 back), and
// hostile fragments (unknown SA, bad numbers, oversize, memory bound, nesting, garbage) counted, never a crash.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import fc from 'fast-check'
import { Counters } from '../../src/lib/counters.js'
import { createCa, loadCa } from '../../src/pki/ca.js'
import { issueCert } from '../../src/pki/issue.js'
import type { IssuedCert } from '../../src/pki/issue.js'
import type { IkeV1EndpointOptions } from '../../src/ike/v1/endpoint.js'
import { HeaderFlag, PayloadType } from '../../src/ike/v1/constants.js'
import { decodeHeader } from '../../src/ike/v1/message/header.js'
import { decodeMessage, encodeMessage } from '../../src/ike/v1/message/message.js'
import { FRAGMENT_LAST } from '../../src/ike/v1/message/payloads.js'
import { FragmentIo, DEFAULT_FRAGMENTATION } from '../../src/ike/v1/fragment-io.js'
import { I_ADDR, R_ADDR, childOf, pair } from './v1-harness.js'

const caPem = createCa({ commonName: 'Fragment Test CA' })
const ca = loadCa(caPem)
const server = issueCert(ca, { kind: 'server', commonName: 'vpn.example', dnsNames: ['vpn.example'], ipAddresses: [R_ADDR] })
const client = issueCert(ca, { kind: 'client', commonName: 'alice.example' })
const trust = { anchors: [new X509Certificate(caPem.certPem)], wallClock: () => Date.now() }
const creds = (c: IssuedCert): Partial<IkeV1EndpointOptions> => ({ credentials: { certDer: new Uint8Array(new X509Certificate(c.certPem).raw), keyPem: c.keyPem }, trust })
const certPair = (fragmentation: IkeV1EndpointOptions['fragmentation'] = {}, seed = 400) =>
  pair({ seed, extra: { fragmentation }, iExtra: creds(client), rExtra: creds(server) })
const isFragment = (d: Uint8Array): boolean => d.length >= 28 && decodeHeader(d).nextPayload === PayloadType.IkeFragment
const fromI = { address: I_ADDR, port: 500 }
const fragmentMsg = (cookies: Uint8Array, fragmentId: number, number: number, flags: number, data: Uint8Array) =>
  encodeMessage({ initiatorCookie: cookies.subarray(0, 8), responderCookie: cookies.subarray(8, 16), version: 0x10, exchangeType: 2, flags: 0, messageId: 0 }, [{ payload: 'fragment', fragmentId, number, flags, data }])

test('certificate main mode with the default fragment size (1280, as strongSwan): MM5 and MM6 travel in fragments', () => {
  const p = certPair()
  p.connect()
  p.pump()
  assert.equal(childOf(p.events.i).length, 1)
  assert.equal(childOf(p.events.r).length, 1)
  const frags = p.log.filter((l) => isFragment(l.data))
  assert.ok(frags.some((l) => l.from === 'i') && frags.some((l) => l.from === 'r'), 'both MM5 and MM6 fragmented')
  for (const l of p.log) assert.ok(l.data.length <= 1280 - 28, `${l.data.length} bytes over the UDP payload limit`)
  for (const l of frags) {
    const m = decodeMessage(l.data)
    assert.equal(m.header.flags & HeaderFlag.Encryption, 0, 'the fragment wrapper is plaintext; its data is the encrypted message')
    assert.equal(m.payloads.length, 1)
  }
  assert.ok((p.r.counters()['rx:reassembled'] ?? 0) >= 1 && (p.i.counters()['rx:reassembled'] ?? 0) >= 1)
})

test('a 576-byte fragment size: many fragments each way, delivered in reverse order, still up', () => {
  const p = certPair({ fragmentSize: 576 }, 410)
  p.connect()
  const held: Uint8Array[] = []
  // Hold back the initiator's fragments (MM5), deliver them last-first, then let the exchange go on.
  p.pump((n, from) => (from === 'i' && isFragment(p.log[n]!.data) ? (held.push(p.log[n]!.data), 'drop') : 'ok'))
  assert.ok(held.length >= 3, `${held.length} fragments`)
  for (const d of held) assert.ok(d.length <= 576 - 28)
  for (const d of [...held].reverse()) p.r.handleDatagram(p.clock.now, d, fromI)
  p.pump()
  assert.equal(childOf(p.events.i).length, 1)
  assert.equal(childOf(p.events.r).length, 1)
})

test('one lost fragment: the retransmission (same fragment ID) fills the gap; a fragment that never comes times out, counted', () => {
  const p = certPair({}, 420)
  p.connect()
  let dropped = false
  p.settle((n, from) => {
    const d = p.log[n]!.data
    if (!dropped && from === 'i' && isFragment(d) && (decodeMessage(d).payloads[0] as { number: number }).number === 2) { dropped = true; return 'drop' }
    return 'ok'
  })
  assert.ok(dropped)
  assert.equal(childOf(p.events.r).length, 1)
  assert.ok((p.r.counters()['drop:fragment:duplicate'] ?? 0) >= 1, 'fragment 1 came twice')

  const q = certPair({ reassemblyTimeoutMs: 5000 }, 421)
  q.connect()
  q.settle((n, from) => (from === 'i' && isFragment(q.log[n]!.data) && (decodeMessage(q.log[n]!.data).payloads[0] as { number: number }).number === 2 ? 'drop' : 'ok'))
  assert.ok((q.r.counters()['drop:fragment:timeout'] ?? 0) >= 1, JSON.stringify(q.r.counters()))
  assert.equal(childOf(q.events.i).length, 0)
  assert.equal(q.r.counters()['error:internal'] ?? 0, 0)
  assert.equal(q.i.saCount + q.r.saCount, 0)
})

test('a replayed fragmented MM5 is reassembled, matched in the reply cache and answered with the same MM6 fragments', () => {
  const p = certPair({}, 430)
  p.connect()
  p.pump()
  const mm5 = p.log.filter((l) => l.from === 'i' && isFragment(l.data)).map((l) => l.data)
  const mm6 = p.log.filter((l) => l.from === 'r' && isFragment(l.data)).map((l) => l.data)
  assert.ok(mm5.length >= 2 && mm6.length >= 2)
  const before = p.r.counters()['rx:retransmission'] ?? 0
  for (const d of mm5) p.r.handleDatagram(p.clock.now, d, fromI)
  const again: Uint8Array[] = []
  for (let t = p.r.pollTransmit(); t; t = p.r.pollTransmit()) again.push(t.data)
  assert.equal(p.r.counters()['rx:retransmission'], before + 1)
  assert.deepEqual(again, mm6, 'byte for byte, same fragment ID')
  assert.equal(childOf(p.events.r).length, 1)
})

test('hostile fragments: unknown SA, numbers 0/17, oversize set, memory bound, nesting, truncated: counted, no crash', () => {
  const p = pair({ seed: 440, extra: { fragmentation: { reassemblyMemoryTotal: 3000 } } })
  const names = [0, 1, 2].map(() => p.i.connect(p.clock.now, { address: R_ADDR, port: 500 }))
  const mm1s: Uint8Array[] = []
  for (let t = p.i.pollTransmit(); t; t = p.i.pollTransmit()) { mm1s.push(t.data); p.r.handleDatagram(p.clock.now, t.data, fromI) }
  const mm2s: Uint8Array[] = []
  for (let t = p.r.pollTransmit(); t; t = p.r.pollTransmit()) mm2s.push(t.data)
  assert.equal(names.length, 3)
  const cookies = mm2s.map((d) => d.subarray(0, 16))
  const r = (d: Uint8Array) => p.r.handleDatagram(p.clock.now, d, fromI)
  r(fragmentMsg(new Uint8Array(16).fill(9), 1, 1, 0, new Uint8Array(10)))
  assert.equal(p.r.counters()['drop:fragment:unknown-sa'], 1)
  r(fragmentMsg(cookies[0]!, 1, 0, 0, new Uint8Array(10)))
  r(fragmentMsg(cookies[0]!, 1, 17, 0, new Uint8Array(10)))
  assert.equal(p.r.counters()['drop:fragment:number'], 2)
  // A reassembled message that is itself a fragment.
  const inner = fragmentMsg(cookies[2]!, 7, 1, FRAGMENT_LAST, new Uint8Array(4))
  r(fragmentMsg(cookies[2]!, 3, 1, FRAGMENT_LAST, inner))
  assert.equal(p.r.counters()['drop:fragment:reassembled-mismatch'], 1)
  // Memory: 3 SAs x 1000 bytes fill the 3000-byte bound; the next byte anywhere is refused.
  for (const c of cookies) r(fragmentMsg(c, 2, 1, 0, new Uint8Array(1000)))
  r(fragmentMsg(cookies[1]!, 2, 2, 0, new Uint8Array(1)))
  assert.equal(p.r.counters()['drop:fragment:memory'], 1)
  // Truncated fragment payloads and a second payload after the fragment.
  const good = fragmentMsg(cookies[0]!, 4, 1, 0, new Uint8Array(20))
  for (let cut = 28; cut < good.length; cut += 3) r(good.subarray(0, cut))
  assert.equal(p.r.counters()['error:internal'] ?? 0, 0)
  assert.ok((p.r.counters()['drop:fragment:malformed'] ?? 0) + Object.entries(p.r.counters()).filter(([k]) => k.startsWith('drop:decode') || k.startsWith('drop:header')).length > 0)
  // Oversize: a 64 KiB set is refused by the per-SA bound (a fresh endpoint with room in the total).
  const q = pair({ seed: 441 })
  q.i.connect(q.clock.now, { address: R_ADDR, port: 500 })
  for (let t = q.i.pollTransmit(); t; t = q.i.pollTransmit()) q.r.handleDatagram(q.clock.now, t.data, fromI)
  const qc = q.r.pollTransmit()!.data.subarray(0, 16)
  for (let n = 1; n <= 15; n++) q.r.handleDatagram(q.clock.now, fragmentMsg(qc, 5, n, 0, new Uint8Array(5000)), fromI)
  assert.equal(q.r.counters()['drop:fragment:too-large'], 1)
  assert.equal(q.r.counters()['error:internal'] ?? 0, 0)
  // The handshakes whose SAs were probed can still finish.
  assert.equal(mm1s.length, 3)
})

test('property: random fragment payloads for a live SA never throw and never complete into garbage processing errors', () => {
  const p = pair({ seed: 450 })
  p.connect()
  p.pump()
  const cookies = p.log[2]!.data.subarray(0, 16)
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 300 }), (id, n, flags, data) => {
    p.r.handleDatagram(p.clock.now, fragmentMsg(cookies, id, n, flags, data), fromI)
    for (let t = p.r.pollTransmit(); t; t = p.r.pollTransmit()) { /* drained */ }
  }), { numRuns: 300 })
  assert.equal(p.r.counters()['error:internal'] ?? 0, 0)
  assert.equal(p.events.r.filter((e) => e.type === 'closed').length, 0)
})

test('FragmentIo.split: whole below the limit or without the peer\'s VID; limit = size - IP - UDP (- marker on 4500)', () => {
  const io = new FragmentIo(DEFAULT_FRAGMENTATION, new Counters())
  const msg = encodeMessage({ initiatorCookie: new Uint8Array(8).fill(1), responderCookie: new Uint8Array(8).fill(2), version: 0x10, exchangeType: 2, flags: HeaderFlag.Encryption, messageId: 0 }, [{ payload: 'vendorId', data: new Uint8Array(1300) }])
  const v4 = { address: '198.18.0.2', port: 500 }, v6 = { address: '2001:db8::2', port: 500 }
  assert.deepEqual(io.split(msg, v4, false, false), [msg])
  const small = msg.subarray(0, 1252)
  assert.equal(io.split(small, v4, true, false).length, 1)
  const parts = io.split(msg, v4, true, false)
  assert.equal(parts.length, 2)
  assert.ok(parts.every((d) => d.length <= 1252))
  assert.ok(io.split(msg, v6, true, false).every((d) => d.length <= 1280 - 48))
  assert.ok(io.split(msg, v4, true, true).every((d) => d.length <= 1248))
  // The same bytes again (a retransmission) keep their fragment ID; other bytes get the next one.
  const id = (d: Uint8Array) => (decodeMessage(d).payloads[0] as { fragmentId: number }).fragmentId
  assert.equal(id(io.split(msg, v4, true, false)[0]!), id(parts[0]!))
  assert.notEqual(id(io.split(new Uint8Array(msg), v4, true, false)[0]!), id(parts[0]!))
})

test('aggressive mode with certificates (RFC 2409 §5.1 in aggressive form): CERT + SIG_R in AM2 (fragmented), SIG_I in AM3', () => {
  const p = pair({ seed: 460, iExtra: creds(client), rExtra: { ...creds(server), aggressive: true } })
  p.i.connect(p.clock.now, { address: R_ADDR, port: 500 }, undefined, { aggressive: true })
  p.pump()
  const upR = p.events.r.find((e) => e.type === 'ikeUp'), upI = p.events.i.find((e) => e.type === 'ikeUp')
  assert.ok(upR && upR.type === 'ikeUp' && upI && upI.type === 'ikeUp', JSON.stringify([p.events.i, p.r.counters()]))
  assert.equal(upR.peerCertificate?.serial, client.serial)
  assert.equal(upI.peerCertificate?.serial, server.serial)
  assert.equal(childOf(p.events.r).length, 1)
  assert.ok(p.log.some((l) => l.from === 'r' && isFragment(l.data) && decodeHeader(l.data).exchangeType === 4), 'AM2 went out in fragments')
})

test('FragmentIo.receive: held bytes are accounted and freed; the timeout runs from the first fragment of the current ID', () => {
  const stats = new Counters()
  const io = new FragmentIo({ ...DEFAULT_FRAGMENTATION, reassemblyTimeoutMs: 1000 }, stats)
  const c = new Uint8Array(16).fill(3)
  const inner = encodeMessage({ initiatorCookie: c.subarray(0, 8), responderCookie: c.subarray(8), version: 0x10, exchangeType: 2, flags: 0, messageId: 0 }, [{ payload: 'vendorId', data: new Uint8Array(40) }])
  assert.equal(io.receive(0, 'sa', fragmentMsg(c, 1, 1, 0, inner.subarray(0, 30))), undefined)
  assert.equal(io.heldBytes, 30)
  // A new ID at t=900 replaces the set and restarts the clock: nothing expires at t=1500.
  assert.equal(io.receive(900, 'sa', fragmentMsg(c, 2, 1, 0, inner.subarray(0, 30))), undefined)
  assert.equal(io.heldBytes, 30)
  io.expire(1500)
  assert.equal(stats.snapshot()['drop:fragment:timeout'] ?? 0, 0)
  assert.equal(io.nextTimeout(), 1900)
  const whole = io.receive(1600, 'sa', fragmentMsg(c, 2, 2, FRAGMENT_LAST, inner.subarray(30)))
  assert.deepEqual(whole, inner)
  assert.equal(io.heldBytes, 0)
  assert.equal(io.nextTimeout(), undefined)
  // An unfinished set expires, counted, and frees its bytes.
  io.receive(2000, 'sa', fragmentMsg(c, 3, 1, 0, new Uint8Array(50)))
  io.expire(3000)
  assert.equal(stats.snapshot()['drop:fragment:timeout'], 1)
  assert.equal(io.heldBytes, 0)
  // forget() (the SA ended) frees too.
  io.receive(3000, 'sb', fragmentMsg(c, 4, 1, 0, new Uint8Array(70)))
  io.forget('sb')
  assert.equal(io.heldBytes, 0)
})

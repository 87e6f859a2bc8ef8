// EspDriver with fake raw (protocol 50) and UDP 4500 sockets wired back to back: raw and UDP-encapsulated
// SAs (RFC 4303, RFC 3948 §2), IKE with the Non-ESP Marker, replay/unknown SPI counted, peer-moved,
// NAT-keepalives (§4) only behind NAT, batching per turn, fault isolation, keys closed on removal.
import { test } from 'node:test'
import fc from 'fast-check'
import assert from 'node:assert/strict'
import { EspDriver, type EspRawSocket, type EspUdpSocket, type EspSaHandle, type EspDriverEvent } from '../../src/transport/esp-driver.js'
import { EspInboundSa } from '../../src/esp/sa-inbound.js'
import { EspOutboundSa } from '../../src/esp/sa-outbound.js'
import { EspEncryption, EspIntegrity } from '../../src/esp/algorithms.js'
import type { EspEncryptionAlgorithm, EspIntegrityAlgorithm } from '../../src/esp/algorithms.js'
import { Counters } from '../../src/lib/counters.js'
import type { Endpoint } from '../../src/lib/endpoint.js'
import { fixedRng } from '../helpers/clock.js'

type RawCb = Parameters<EspRawSocket['onPackets']>[0]
type UdpCb = Parameters<EspUdpSocket['onDatagram']>[0]

/** A fake host: raw sends and UDP sends are recorded; `deliverRaw/deliverUdp` feed its driver. */
function host(address: string, port = 4500) {
  let rawCb: RawCb | undefined, udpCb: UdpCb | undefined
  const rawSent: { dest: string; payload: Uint8Array }[] = []
  const udpSent: { to: Endpoint; payload: Uint8Array }[] = []
  const manyCalls: number[] = []
  const raw: EspRawSocket = {
    counters: new Counters(),
    send: (dest, payload) => { rawSent.push({ dest, payload }) },
    sendMany: (items) => { manyCalls.push(items.length); rawSent.push(...items) },
    onPackets: (cb) => { rawCb = cb }, onError: () => {}, unref: () => {}, close: () => {},
  }
  const udp: EspUdpSocket = {
    counters: new Counters(),
    send: (to, payload) => { udpSent.push({ to, payload: payload.slice() }) },
    onDatagram: (cb) => { udpCb = cb }, unref: () => {}, close: async () => {},
  }
  return {
    address, port, raw, udp, rawSent, udpSent, manyCalls,
    deliverRaw: (from: string, payload: Uint8Array) => rawCb!([{ from, payload }]),
    deliverUdp: (from: Endpoint, payload: Uint8Array) => udpCb!(payload, from),
  }
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r))
const key = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill)

function pair(spiOut: number, spiIn: number, enc: EspEncryptionAlgorithm, integ: EspIntegrityAlgorithm | undefined, seedOut: number, seedIn: number) {
  const keys = (s: number) => ({ encryptionKey: key(enc.keyLength + enc.saltLength, s), ...(integ ? { integrityKey: key(integ.keyLength, s + 1) } : {}) })
  return {
    inbound: new EspInboundSa({ spi: spiIn, encryption: enc, integrity: integ, keys: keys(seedIn) }),
    outbound: new EspOutboundSa({ spi: spiOut, encryption: enc, integrity: integ, keys: keys(seedOut), rng: fixedRng() }),
  }
}

const GCM = EspEncryption.AES_GCM16_128
const CBC = EspEncryption.AES_CBC_128
const SHA1 = EspIntegrity.HMAC_SHA1_96

/** Two drivers whose SA pairs match: A out 0x2000 = B in 0x2000, B out 0x1000 = A in 0x1000. */
function setup(opts: { udp?: boolean; behindNat?: boolean; keepaliveIntervalMs?: number; enc?: EspEncryptionAlgorithm; integ?: EspIntegrityAlgorithm } = {}) {
  const enc = opts.enc ?? GCM, integ = opts.enc ? opts.integ : undefined
  const ha = host('198.18.0.1'), hb = host('198.18.0.2')
  const got = { a: [] as [number, number, Uint8Array][], b: [] as [number, number, Uint8Array][] }
  const events: EspDriverEvent[] = [], errors: Error[] = []
  const mk = (h: ReturnType<typeof host>, into: [number, number, Uint8Array][]) => new EspDriver({
    raw: h.raw, udp: h.udp, keepaliveIntervalMs: opts.keepaliveIntervalMs,
    onPayload: (hd, nh, p) => { into.push([hd.inboundSpi, nh, p.slice()]) },
    onEvent: (e) => events.push(e), onError: (e) => errors.push(e),
  })
  const a = mk(ha, got.a), b = mk(hb, got.b)
  const pa = pair(0x2000, 0x1000, enc, integ, 1, 2), pb = pair(0x1000, 0x2000, enc, integ, 2, 1)
  const ha2 = a.addSa(pa.inbound, pa.outbound, opts.udp ? { address: hb.address, port: 4500, behindNat: opts.behindNat } : { address: hb.address })
  const hb2 = b.addSa(pb.inbound, pb.outbound, opts.udp ? { address: ha.address, port: 4500 } : { address: ha.address })
  return { ha, hb, a, b, sa: ha2, sb: hb2, got, events, errors, pa, pb }
}

test('raw ESP: payloads sealed on A open on B and back; one sendMany per event-loop turn', async () => {
  const s = setup()
  for (let i = 0; i < 5; i++) assert.equal(s.a.send(s.sa, Uint8Array.of(i, 1, 2, 3), 17), true)
  assert.equal(s.ha.rawSent.length, 0, 'nothing leaves before the turn ends')
  await turn()
  assert.deepEqual(s.ha.manyCalls, [5])
  assert.ok(s.ha.rawSent.every((p) => p.dest === '198.18.0.2'))
  for (const p of s.ha.rawSent) s.hb.deliverRaw(s.ha.address, p.payload)
  assert.deepEqual(s.got.b.map(([spi, nh, p]) => [spi, nh, [...p]]), [0, 1, 2, 3, 4].map((i) => [0x2000, 17, [i, 1, 2, 3]]))
  assert.equal(s.b.send(0x1000, Uint8Array.of(9), 4), true) // by outbound SPI
  await turn()
  s.ha.deliverRaw(s.hb.address, s.hb.rawSent[0]!.payload)
  assert.deepEqual(s.got.a.map(([, nh, p]) => [nh, [...p]]), [[4, [9]]])
  const c = s.b.counters()
  assert.equal(c['sa.rx:packets'], 5)
  assert.equal(c['sa.tx:packets'], 1)
})

test('replayed ESP is dropped and counted; unknown SPI and short packets counted by the demux', async () => {
  const s = setup()
  s.a.send(s.sa, Uint8Array.of(1), 17)
  await turn()
  const wire = s.ha.rawSent[0]!.payload
  s.hb.deliverRaw(s.ha.address, wire)
  s.hb.deliverRaw(s.ha.address, wire)
  assert.equal(s.got.b.length, 1)
  const bogus = wire.slice(); bogus[0] = 0xde; bogus[1] = 0xad
  s.hb.deliverRaw(s.ha.address, bogus)
  s.hb.deliverRaw(s.ha.address, Uint8Array.of(1, 2, 3))
  const c = s.b.counters()
  assert.equal(c['sa.drop:replay:duplicate'], 1)
  assert.equal(c['demux.drop:bad-spi'], 1)
  assert.equal(c['demux.drop:too-short'], 1)
  assert.equal(s.got.b.length, 1)
})

test('UDP-encapsulated ESP (AES-CBC + HMAC-SHA1-96) goes to the peer port; raw ESP for a UDP SA is dropped', async () => {
  const s = setup({ udp: true, enc: CBC, integ: SHA1 })
  s.a.send(s.sa, Uint8Array.of(7, 7), 17)
  await turn()
  assert.equal(s.ha.rawSent.length, 0)
  const d = s.ha.udpSent[0]!
  assert.deepEqual(d.to, { address: '198.18.0.2', port: 4500 })
  assert.notDeepEqual([...d.payload.subarray(0, 4)], [0, 0, 0, 0]) // ESP: SPI, never the Non-ESP Marker
  s.hb.deliverUdp({ address: s.ha.address, port: 4500 }, d.payload)
  assert.deepEqual(s.got.b.map(([, , p]) => [...p]), [[7, 7]])
  s.a.send(s.sa, Uint8Array.of(8), 17)
  await turn()
  s.hb.deliverRaw(s.ha.address, s.ha.udpSent[1]!.payload)
  assert.equal(s.got.b.length, 1)
  assert.equal(s.b.counters()['rx:drop:raw-on-udp-sa'], 1)
  // And the other way: UDP-encapsulated ESP for a raw SA is dropped too.
  const r = setup()
  r.a.send(r.sa, Uint8Array.of(1), 17)
  await turn()
  r.hb.deliverUdp({ address: r.ha.address, port: 4500 }, r.ha.rawSent[0]!.payload)
  assert.equal(r.got.b.length, 0)
  assert.equal(r.b.counters()['rx:drop:udp-on-raw-sa'], 1)
})

test('property: hostile raw and UDP datagrams never throw out of the driver and never reach onPayload or onIke unless marked IKE', () => {
  const s = setup({ udp: true })
  const ikeSeen: Uint8Array[] = []
  const d = new EspDriver({ raw: s.hb.raw, udp: s.hb.udp, onPayload: () => assert.fail('forged payload delivered'), onIke: (m) => ikeSeen.push(m), onError: () => {} })
  const p = pair(0x1000, 0x2000, GCM, undefined, 2, 1)
  d.addSa(p.inbound, p.outbound, { address: '198.18.0.1', port: 4500 })
  // Known SPI prefix half of the time, so the SA's own checks are exercised too.
  const datagram = fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ minLength: 0, maxLength: 200 }).map((b) => Uint8Array.of(0, 0, 0x20, 0, ...b)))
  fc.assert(fc.property(datagram, fc.boolean(), (bytes, viaUdp) => {
    const before = ikeSeen.length
    if (viaUdp) s.hb.deliverUdp({ address: '198.18.0.1', port: 4500 }, bytes)
    else s.hb.deliverRaw('198.18.0.1', bytes)
    const marked = viaUdp && bytes.length > 4 && (bytes[0]! | bytes[1]! | bytes[2]! | bytes[3]!) === 0
    assert.equal(ikeSeen.length - before, marked ? 1 : 0)
  }), { numRuns: 2000 })
  assert.equal(d.saCount, 1)
})

test('IKE on 4500: sendIke adds the Non-ESP Marker, onIke gets it stripped; keepalives are ignored', async () => {
  const h = host('198.18.0.1')
  const ike: [number[], Endpoint][] = []
  const d = new EspDriver({ udp: h.udp, onPayload: () => assert.fail(), onIke: (m, f) => ike.push([[...m], f]), onError: () => {} })
  d.sendIke({ address: '198.18.0.9', port: 4500 }, Uint8Array.of(0xaa, 0xbb))
  await turn()
  assert.deepEqual([...h.udpSent[0]!.payload], [0, 0, 0, 0, 0xaa, 0xbb]) // RFC 3948 §2.2
  h.deliverUdp({ address: '198.18.0.9', port: 1234 }, Uint8Array.of(0, 0, 0, 0, 1, 2, 3))
  h.deliverUdp({ address: '198.18.0.9', port: 1234 }, Uint8Array.of(0xff)) // §2.3 keepalive
  assert.deepEqual(ike, [[[1, 2, 3], { address: '198.18.0.9', port: 1234 }]])
  assert.equal(d.counters()['demux.rx:keepalive'], 1)
  assert.throws(() => d.addSa(...Object.values(pair(0x3000, 0x3001, GCM, undefined, 1, 2)) as [EspInboundSa, EspOutboundSa], { address: '198.18.0.9' }), RangeError)
})

test('peer-moved: an authenticated packet from a new port moves the SA, and the next send follows it', async () => {
  const s = setup({ udp: true })
  s.a.send(s.sa, Uint8Array.of(1), 17)
  await turn()
  s.hb.deliverUdp({ address: '198.18.0.77', port: 30000 }, s.ha.udpSent[0]!.payload) // through a NAT now
  assert.deepEqual(s.sb.peer, { address: '198.18.0.77', port: 30000 })
  const ev = s.events.find((e) => e.type === 'peer-moved')
  assert.ok(ev && ev.type === 'peer-moved' && ev.handle === s.sb)
  s.b.send(s.sb, Uint8Array.of(2), 17)
  await turn()
  assert.deepEqual(s.hb.udpSent.at(-1)!.to, { address: '198.18.0.77', port: 30000 })
  // A forged packet (bad ICV) from yet another port moves nothing.
  const forged = s.ha.udpSent[0]!.payload.slice(); forged[forged.length - 1]! ^= 1
  s.hb.deliverUdp({ address: '198.18.0.66', port: 1 }, forged)
  assert.deepEqual(s.sb.peer, { address: '198.18.0.77', port: 30000 })
})

test('NAT-keepalives (RFC 3948 §4): only for SAs behind NAT, only when nothing else was sent in the interval', async () => {
  const s = setup({ udp: true, behindNat: true, keepaliveIntervalMs: 40 })
  // A second SA to the same peer endpoint shares its NAT binding: still one keepalive per interval.
  const p2 = pair(0x2001, 0x1001, GCM, undefined, 5, 6)
  s.a.addSa(p2.inbound, p2.outbound, { address: '198.18.0.2', port: 4500, behindNat: true })
  await new Promise((r) => setTimeout(r, 150))
  const ka = s.ha.udpSent.filter((d) => d.payload.length === 1 && d.payload[0] === 0xff)
  assert.ok(ka.length >= 2 && ka.length <= 4, `keepalives sent: ${ka.length}`)
  assert.equal(s.a.counters()['tx:keepalive'], ka.length)
  assert.ok(ka.every((d) => d.to.address === '198.18.0.2' && d.to.port === 4500))
  assert.equal(s.hb.udpSent.length, 0, 'B is not behind NAT: no keepalives')
  // Traffic in every interval suppresses them.
  const before = s.ha.udpSent.length
  for (let i = 0; i < 6; i++) { s.a.send(s.sa, Uint8Array.of(i), 17); await new Promise((r) => setTimeout(r, 15)) }
  assert.ok(s.ha.udpSent.slice(before).filter((d) => d.payload.length === 1).length <= 1)
  s.a.removeSa(s.sa)
  s.a.removeSa(0x2001)
  const n = s.ha.udpSent.length
  await new Promise((r) => setTimeout(r, 100))
  assert.equal(s.ha.udpSent.length, n, 'no keepalives after removeSa')
  await s.a.close(); await s.b.close()
})

test('a throwing onPayload removes only that SA (keys closed); the other SA keeps working', async () => {
  const h = host('198.18.0.1'), peer = host('198.18.0.2')
  const faults: [EspSaHandle, unknown][] = []
  const got: number[] = []
  const d = new EspDriver({
    raw: h.raw, onError: () => {}, onFault: (hd, e) => faults.push([hd, e]),
    onPayload: (hd, _nh, p) => { if (hd.inboundSpi === 0x1000) throw new Error('bug'); got.push(p[0]!) },
  })
  const p1 = pair(0x2000, 0x1000, GCM, undefined, 1, 2), p2 = pair(0x2001, 0x1001, GCM, undefined, 3, 4)
  const h1 = d.addSa(p1.inbound, p1.outbound, { address: peer.address })
  d.addSa(p2.inbound, p2.outbound, { address: peer.address })
  const o1 = new EspOutboundSa({ spi: 0x1000, encryption: GCM, keys: { encryptionKey: key(20, 2) }, rng: fixedRng() })
  const o2 = new EspOutboundSa({ spi: 0x1001, encryption: GCM, keys: { encryptionKey: key(20, 4) }, rng: fixedRng() })
  h.deliverRaw(peer.address, o1.encrypt(Uint8Array.of(1), 17)!)
  h.deliverRaw(peer.address, o2.encrypt(Uint8Array.of(2), 17)!)
  assert.equal(faults.length, 1)
  assert.equal(faults[0]![0], h1)
  assert.equal(h1.removed, true)
  assert.equal(p1.inbound.isClosed && p1.outbound.isClosed, true)
  assert.deepEqual(got, [2])
  assert.equal(d.send(h1, Uint8Array.of(0), 17), false)
  assert.equal(d.counters()['tx:drop:no-sa'], 1)
  assert.equal(d.counters().fault, 1)
  assert.equal(d.saCount, 1)
})

test('removeSa and close zero both SAs; counters of removed SAs stay in the totals; SA limit events reach onEvent', async () => {
  const s = setup()
  s.a.send(s.sa, Uint8Array.of(1), 17)
  s.a.removeSa(s.sa)
  assert.equal(s.pa.inbound.isClosed && s.pa.outbound.isClosed, true)
  assert.equal(s.a.counters()['sa.tx:packets'], 1)
  s.a.removeSa(s.sa) // idempotent
  await s.b.close()
  assert.equal(s.pb.inbound.isClosed && s.pb.outbound.isClosed, true)
  // A soft sequence limit of 2 raises one 'soft-limit' event on the second send.
  const h = host('198.18.0.5'), events: EspDriverEvent[] = []
  const d = new EspDriver({ raw: h.raw, onPayload: () => {}, onEvent: (e) => events.push(e), onError: () => {} })
  const out = new EspOutboundSa({ spi: 0x4000, encryption: GCM, keys: { encryptionKey: key(20, 5) }, rng: fixedRng(), softSequenceLimit: 2 })
  const inb = new EspInboundSa({ spi: 0x4001, encryption: GCM, keys: { encryptionKey: key(20, 6) } })
  const hd = d.addSa(inb, out, { address: '198.18.0.6' })
  d.send(hd, Uint8Array.of(1), 17); d.send(hd, Uint8Array.of(2), 17)
  assert.deepEqual(events, [{ type: 'sa', handle: hd, event: { type: 'soft-limit', spi: 0x4000, direction: 'outbound', reason: 'sequence' } }])
  await d.close()
})

// SPI demultiplexing (RFC 4303 §3.4.2) and the port-4500 sorting of RFC 3948 §2.1-2.3: ESP, IKE
// behind the Non-ESP Marker, NAT-keepalives, and several clients behind one NAT.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fromHex, toHex } from '../../src/lib/bytes.js'
import { EspDemux } from '../../src/esp/demux.js'
import { addNonEspMarker, classifyUdpEncap, natKeepalive, stripNonEspMarker } from '../../src/esp/udp-encap.js'
import { fixedRng } from '../helpers/clock.js'
import { SUITES, saPair } from './harness.js'

test('classifyUdpEncap: keepalive 0xFF, marker + IKE, ESP with non-zero SPI, everything else malformed (RFC 3948 §2)', () => {
  assert.equal(classifyUdpEncap(fromHex('ff')), 'keepalive')
  assert.equal(classifyUdpEncap(fromHex('00')), 'malformed')
  assert.equal(classifyUdpEncap(fromHex('')), 'malformed')
  assert.equal(classifyUdpEncap(fromHex('ffff')), 'malformed')
  assert.equal(classifyUdpEncap(fromHex('000000')), 'malformed')
  assert.equal(classifyUdpEncap(fromHex('00000000')), 'malformed', 'a marker with no IKE message')
  assert.equal(classifyUdpEncap(fromHex('00000000 01')), 'ike')
  assert.equal(classifyUdpEncap(fromHex('00000100 00000001')), 'esp')
  assert.equal(classifyUdpEncap(fromHex('00000100 000000')), 'malformed', 'shorter than an ESP header')
  assert.equal(classifyUdpEncap(fromHex('00000001 00000001 00')), 'esp', 'SPI 1 is ESP-shaped; the demux finds no SA')
})

test('Non-ESP Marker: added as 4 zero bytes before the IKE header, stripped as a view (§2.2)', () => {
  const ike = fromHex('0102030405060708 0000000000000000 2110050000000000 0000001c')
  const wire = addNonEspMarker(ike)
  assert.equal(toHex(wire), '00000000' + toHex(ike))
  assert.equal(classifyUdpEncap(wire), 'ike')
  assert.equal(toHex(stripNonEspMarker(wire)), toHex(ike))
  assert.equal(toHex(natKeepalive()), 'ff')
})

test('receiveUdp: IKE goes back marker-stripped, keepalives are counted and ignored, ESP is decrypted by SPI', () => {
  const d = new EspDemux()
  const p = saPair(SUITES[0]!, 0x10001)
  d.add(p.in)
  const ike = d.receiveUdp(fromHex('00000000 aabbccdd'))
  assert.equal(ike.kind, 'ike')
  assert.equal(ike.kind === 'ike' && toHex(ike.message), 'aabbccdd')
  assert.equal(d.receiveUdp(natKeepalive()).kind, 'keepalive')
  const esp = d.receiveUdp(p.out.encrypt(fromHex('450000'), 4)!)
  assert.equal(esp.kind, 'esp')
  assert.ok(esp.kind === 'esp' && esp.sa === p.in && toHex(esp.received.payload) === '450000')
  assert.equal(d.receiveUdp(fromHex('0102')).kind, 'dropped')
  assert.equal(d.receiveUdp(fromHex('deadbeef 00000001 00000000')).kind, 'dropped')
  assert.deepEqual(d.counters(), { 'rx:ike': 1, 'rx:keepalive': 1, 'drop:malformed': 1, 'drop:bad-spi': 1 })
})

test('raw ESP (protocol 50): receive/lookup count unknown SPIs and short packets; a decrypt failure is the SA\'s counter', () => {
  const d = new EspDemux()
  const p = saPair(SUITES[0]!, 0x10002)
  d.add(p.in)
  const pkt = p.out.encrypt(fromHex('01'), 17)!
  assert.equal(d.receive(pkt)?.received.nextHeader, 17)
  assert.equal(d.receive(pkt), undefined, 'replayed')
  assert.equal(p.in.counters()['drop:replay:duplicate'], 1)
  assert.equal(d.receive(fromHex('000000')), undefined)
  assert.equal(d.lookup(fromHex('12345678 00000001')), undefined)
  assert.deepEqual(d.counters(), { 'drop:too-short': 1, 'drop:bad-spi': 1 })
})

test('three clients behind one NAT each reach their own SA by SPI alone', () => {
  const d = new EspDemux()
  const rng = fixedRng(99)
  const pairs = [0, 1, 2].map((i) => saPair(SUITES[SUITES.length - 1]!, d.reserveSpi(rng), 10 + i))
  for (const p of pairs) d.add(p.in)
  for (let round = 0; round < 3; round++) {
    pairs.forEach((p, i) => {
      const r = d.receiveUdp(p.out.encrypt(Uint8Array.of(i, round), 17)!)
      assert.ok(r.kind === 'esp' && r.sa === p.in && r.received.payload[0] === i)
    })
  }
  // Client 1's packet with client 0's SPI fails the ICV of client 0's SA (different keys).
  const forged = pairs[1]!.out.encrypt(Uint8Array.of(9), 17)!
  forged.set(fromHex(pairs[0]!.in.spi.toString(16).padStart(8, '0')), 0)
  assert.equal(d.receiveUdp(forged).kind, 'dropped')
  assert.equal(pairs[0]!.in.counters()['drop:icv'], 1)
})

test('SPI reservation: random, >= 256 (RFC 4303 §2.1), never handed out twice; add/remove rules', () => {
  const d = new EspDemux()
  const rng = fixedRng(5)
  const seen = new Set<number>()
  for (let i = 0; i < 200; i++) {
    const spi = d.reserveSpi(rng)
    assert.ok(spi >= 256 && spi <= 0xffffffff)
    assert.ok(!seen.has(spi))
    seen.add(spi)
  }
  // A broken Rng that always gives the same reserved value: bounded retries, then RangeError.
  const stuck = { bytes: (n: number) => new Uint8Array(n).fill(0x11) }
  d.reserveSpi(stuck)
  assert.throws(() => d.reserveSpi(stuck), RangeError)
  const low = saPair(SUITES[0]!, 255).in
  assert.throws(() => d.add(low), RangeError)
  const p = saPair(SUITES[0]!, 0x11111111).in
  d.add(p)
  assert.throws(() => d.add(saPair(SUITES[0]!, 0x11111111).in), RangeError)
  assert.equal(d.get(0x11111111), p)
  assert.equal(d.size, 1)
  assert.ok(d.remove(0x11111111))
  assert.equal(d.remove(0x11111111), false)
})

test('NAT rebinding: an authenticated packet from a new port queues peer-moved; forged or late packets do not move the peer', () => {
  const d = new EspDemux()
  const p = saPair(SUITES[0]!, 0x12345)
  const a = { address: '198.18.0.7', port: 4500 }, b = { address: '198.18.0.7', port: 61000 }, evil = { address: '198.18.9.9', port: 4500 }
  d.add(p.in, a)
  const pkts = Array.from({ length: 4 }, (_, i) => p.out.encrypt(Uint8Array.of(i), 17)!)
  assert.equal(d.receiveUdp(pkts[0]!, a).kind, 'esp')
  assert.equal(d.pollEvent(), undefined)
  // A forged packet from elsewhere fails the ICV: no move.
  const forged = pkts[1]!.slice(); forged[forged.length - 1] = forged[forged.length - 1]! ^ 1
  assert.equal(d.receiveUdp(forged, evil).kind, 'dropped')
  assert.equal(d.pollEvent(), undefined)
  // Seq 3 from the new port moves the peer.
  assert.equal(d.receiveUdp(pkts[2]!, b).kind, 'esp')
  assert.deepEqual(d.pollEvent(), { type: 'peer-moved', spi: 0x12345, from: b, previous: a })
  assert.deepEqual(d.remoteOf(0x12345), b)
  // Seq 2 arrives late from the old port: accepted (inside the window) but the peer stays at b.
  assert.equal(d.receiveUdp(pkts[1]!, a).kind, 'esp')
  assert.equal(d.pollEvent(), undefined)
  assert.deepEqual(d.remoteOf(0x12345), b)
  assert.equal(d.counters()['peer-moved'], 1)
  d.remove(0x12345)
  assert.equal(d.remoteOf(0x12345), undefined)
})

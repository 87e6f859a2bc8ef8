// Tunnel-mode inner IPv4 (RFC 4303 §3.1.2, TFC padding §2.7) with the selector hook (RFC 4301
// §5.2), and transport-mode UDP for L2TP (RFC 768 header, RFC 3948 §3.1.2 checksum rule).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { fromHex, toHex } from '../../src/lib/bytes.js'
import { DecodeError } from '../../src/lib/errors.js'
import { verifyInternetChecksum, pseudoHeaderSum } from '../../src/ip/checksum.js'
import { parseIpv4 } from '../../src/ip/prefix.js'
import { decodeTransportUdp, encodeTransportUdp, ipv4SelectorCheck, tunnelInnerIpv4 } from '../../src/esp/tunnel.js'
import { EspNextHeader } from '../../src/esp/packet.js'
import { SUITES, saPair } from './harness.js'

// RFC 3602 §4 Case #7's inner packet: ICMP echo 192.168.123.3 -> 192.168.123.200, 84 bytes, valid checksum.
const INNER = fromHex('45000054090400004001f988c0a87b03c0a87bc808009f76a90a0100b49c083d02a2040008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637')

test('tunnelInnerIpv4: a valid inner packet comes back whole; TFC padding after Total Length is trimmed (§2.7)', () => {
  assert.equal(tunnelInnerIpv4(4, INNER), INNER)
  const padded = new Uint8Array(INNER.length + 40); padded.set(INNER)
  const r = tunnelInnerIpv4(4, padded)
  assert.ok(r instanceof Uint8Array)
  assert.equal(toHex(r), toHex(INNER))
})

test('tunnelInnerIpv4 faults: wrong Next Header, short, bad version, bad checksum, Total Length past the payload', () => {
  assert.equal(tunnelInnerIpv4(17, INNER), 'not-ipv4')
  assert.equal(tunnelInnerIpv4(4, INNER.subarray(0, 19)), 'ipv4-too-short')
  const v6 = INNER.slice(); v6[0] = 0x65
  assert.equal(tunnelInnerIpv4(4, v6), 'ipv4-bad-version')
  const sum = INNER.slice(); sum[10] = sum[10]! ^ 1
  assert.equal(tunnelInnerIpv4(4, sum), 'ipv4-bad-checksum')
  assert.equal(tunnelInnerIpv4(4, INNER.subarray(0, 60)), 'ipv4-bad-total-length')
})

test('selector hook: an inbound tunnel SA drops inner packets outside the traffic selectors (drop:selector)', () => {
  const peerNet = parseIpv4('192.168.123.0')!
  const check = ipv4SelectorCheck((src) => (src & 0xffffff00) >>> 0 === peerNet)
  const p = saPair(SUITES[0]!, 0x20000, 1, { selectorCheck: check })
  assert.ok(p.in.decrypt(p.out.encrypt(INNER, EspNextHeader.IPv4)!))
  const spoofed = INNER.slice(); spoofed[14] = 99 // source 192.168.99.3, checksum now wrong as well
  assert.equal(p.in.decrypt(p.out.encrypt(spoofed, EspNextHeader.IPv4)!), undefined)
  assert.equal(p.in.decrypt(p.out.encrypt(INNER, EspNextHeader.UDP)!), undefined)
  assert.equal(p.in.counters()['drop:selector'], 2)
})

test('golden transport UDP: L2TP 1701 -> 1701 with checksum 0 (RFC 768 "no checksum")', () => {
  const l2tp = fromHex('c802000c0000000000000000')
  const u = encodeTransportUdp(1701, 1701, l2tp)
  assert.equal(toHex(u), '06a506a50014' + '0000' + toHex(l2tp))
  const d = decodeTransportUdp(u)
  assert.equal(d.sourcePort, 1701)
  assert.equal(d.destinationPort, 1701)
  assert.equal(toHex(d.data), toHex(l2tp))
})

test('transport UDP with the pseudo-header checksum verifies as RFC 768 computes it', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), (data, src, dst) => {
    const u = encodeTransportUdp(1701, 4500, data, { source: src, destination: dst })
    return verifyInternetChecksum(u, 0, u.length, pseudoHeaderSum(src, dst, 17, u.length)) && (u[6]! | u[7]!) !== 0
  }))
})

test('decodeTransportUdp: trailing bytes beyond Length are ignored; short header or bad Length is a DecodeError', () => {
  assert.equal(toHex(decodeTransportUdp(fromHex('0001000200090000 aa bbcc')).data), 'aa')
  assert.throws(() => decodeTransportUdp(fromHex('00010002000900')), (e: unknown) => e instanceof DecodeError && e.field === 'udp.header')
  assert.throws(() => decodeTransportUdp(fromHex('0001000200070000')), (e: unknown) => e instanceof DecodeError && e.field === 'udp.length')
  assert.throws(() => decodeTransportUdp(fromHex('0001000200100000aa')), (e: unknown) => e instanceof DecodeError && e.field === 'udp.length')
  fc.assert(fc.property(fc.uint8Array({ maxLength: 30 }), (b) => {
    try { decodeTransportUdp(b) } catch (e) { if (!(e instanceof DecodeError)) throw e }
  }))
})

// stripIpv4 (src/transport/raw-ip.ts): raw(7) sockets deliver each datagram WITH its IPv4 header
// (RFC 791 §3.1); the header is stripped by IHL, the payload trimmed to Total Length, the source kept.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { fromHex, toHex } from '../../src/lib/bytes.js'
import { stripIpv4 } from '../../src/transport/raw-ip.js'

// RFC 791 §3.1 by hand: Version 4, IHL 5, TOS 0, Total Length 0x0020 (20 + 12), ID 0, flags/frag 0,
// TTL 64, Protocol 47, checksum (not checked: the kernel verified it), src 198.18.47.1, dst 198.18.47.2.
const HDR = '45000020 0000 0000 40 2f 0000 c6122f01 c6122f02'
const GRE_ACK = '2081880b0000000900000002'

test('a GRE datagram: header stripped, source kept', () => {
  const r = stripIpv4(fromHex(HDR + GRE_ACK), 47)
  assert.equal(r?.from, '198.18.47.1')
  assert.equal(toHex(r!.payload), GRE_ACK)
})

test('IP options (IHL 6) are skipped and bytes past Total Length are not payload', () => {
  // IHL 6 adds one 4-byte option word (here four End-of-Option-List octets); Total Length 0x24.
  const r = stripIpv4(fromHex('46000024 0000 0000 40 2f 0000 c6122f01 c6122f02 00000000' + GRE_ACK + 'eeee'), 47)
  assert.equal(toHex(r!.payload), GRE_ACK)
})

test('not IPv4, another protocol, a short or inconsistent header: undefined', () => {
  assert.equal(stripIpv4(fromHex(HDR + GRE_ACK), 50), undefined) // ESP socket, GRE packet
  assert.equal(stripIpv4(fromHex('65' + HDR.replace(/\s/g, '').slice(2) + GRE_ACK), 47), undefined) // version 6
  assert.equal(stripIpv4(fromHex('44' + HDR.replace(/\s/g, '').slice(2) + GRE_ACK), 47), undefined) // IHL 4
  assert.equal(stripIpv4(fromHex(HDR + GRE_ACK).subarray(0, 19), 47), undefined)
  assert.equal(stripIpv4(fromHex(HDR + GRE_ACK).subarray(0, 31), 47), undefined) // Total Length beyond the bytes
  assert.equal(stripIpv4(fromHex('4f000020 0000 0000 40 2f 0000 c6122f01 c6122f02' + GRE_ACK), 47), undefined) // IHL 60 > Total Length
})

test('property: never throws, payload always inside the input', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
    const r = stripIpv4(b, 47)
    if (r) assert.ok(r.payload.byteOffset >= b.byteOffset + 20 && r.payload.byteOffset + r.payload.length <= b.byteOffset + b.length)
  }), { numRuns: 3000 })
})

// IPv4 header view, validation reasons, checksum and TTL decrement.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  computeIpv4HeaderChecksum, decrementTtl, IpProtocol, Ipv4Invalid, Ipv4View, setIpv4HeaderChecksum, validateIpv4, verifyIpv4HeaderChecksum,
} from '../../src/ip/ipv4.js'
import { DecodeError } from '../../src/lib/errors.js'
import { fromHex } from '../../src/lib/bytes.js'

// A UDP datagram header from 192.168.0.1 to 192.168.0.199, total length 0x73, checksum 0xb861
// (the widely reproduced worked example of the IPv4 header checksum), followed by 95 payload bytes.
const HEADER = '450000730000400040 11 b861 c0a80001 c0a800c7'.replace(/ /g, '')
function sample(): Uint8Array {
  const p = new Uint8Array(0x73)
  p.set(fromHex(HEADER))
  return p
}

test('the view reads every field of a known header', () => {
  const v = new Ipv4View(sample())
  assert.equal(v.version, 4)
  assert.equal(v.ihl, 5)
  assert.equal(v.headerLength, 20)
  assert.equal(v.totalLength, 0x73)
  assert.equal(v.identification, 0)
  assert.equal(v.dontFragment, true)
  assert.equal(v.moreFragments, false)
  assert.equal(v.flags, 0b010)
  assert.equal(v.fragmentOffset, 0)
  assert.equal(v.ttl, 64)
  assert.equal(v.protocol, IpProtocol.UDP)
  assert.equal(v.checksum, 0xb861)
  assert.equal(v.src, 0xc0a80001)
  assert.equal(v.dst, 0xc0a800c7)
  assert.equal(v.srcAddr, '192.168.0.1')
  assert.equal(v.dstAddr, '192.168.0.199')
  assert.equal(v.payload().length, 0x73 - 20)
  assert.throws(() => new Ipv4View(new Uint8Array(19)), DecodeError)
})

test('header checksum: compute, verify, set', () => {
  const p = sample()
  assert.equal(computeIpv4HeaderChecksum(p), 0xb861)
  assert.equal(verifyIpv4HeaderChecksum(p), true)
  p[8] = 63
  assert.equal(verifyIpv4HeaderChecksum(p), false)
  setIpv4HeaderChecksum(p)
  assert.equal(verifyIpv4HeaderChecksum(p), true)
  assert.equal(computeIpv4HeaderChecksum(p), (p[10]! << 8) | p[11]!)
})

test('validateIpv4 names the first thing wrong', () => {
  assert.equal(validateIpv4(sample()), undefined)
  assert.equal(validateIpv4(new Uint8Array(10)), Ipv4Invalid.tooShort)
  const v6 = sample(); v6[0] = 0x65
  assert.equal(validateIpv4(v6), Ipv4Invalid.badVersion)
  const ihl4 = sample(); ihl4[0] = 0x44
  assert.equal(validateIpv4(ihl4), Ipv4Invalid.badIhl)
  const ihlBig = sample().subarray(0, 40); ihlBig[0] = 0x4f
  assert.equal(validateIpv4(ihlBig), Ipv4Invalid.badIhl)
  assert.equal(validateIpv4(sample().subarray(0, 0x72)), Ipv4Invalid.badTotalLength)
  const tiny = sample(); tiny[2] = 0; tiny[3] = 19
  assert.equal(validateIpv4(tiny, { checksum: false }), Ipv4Invalid.badTotalLength)
  const bad = sample(); bad[15]! ^= 1
  assert.equal(validateIpv4(bad), Ipv4Invalid.badChecksum)
  assert.equal(validateIpv4(bad, { checksum: false }), undefined)
  // Link-layer padding after Total Length is fine.
  const padded = new Uint8Array(0x80); padded.set(sample())
  assert.equal(validateIpv4(padded), undefined)
})

test('validateIpv4 never throws on random bytes', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
    const r = validateIpv4(b)
    assert.ok(r === undefined || Object.values(Ipv4Invalid).includes(r))
  }))
})

test('decrementTtl keeps the header checksum valid and stops at 1', () => {
  fc.assert(fc.property(fc.integer({ min: 2, max: 255 }), fc.uint8Array({ minLength: 20, maxLength: 20 }), (ttl, rnd) => {
    const p = sample()
    p.set(rnd.subarray(12, 20), 12) // random addresses
    p[4] = rnd[4]!; p[5] = rnd[5]!
    p[8] = ttl
    setIpv4HeaderChecksum(p)
    assert.equal(decrementTtl(p), true)
    assert.equal(p[8], ttl - 1)
    assert.equal(verifyIpv4HeaderChecksum(p), true)
  }))
  const p = sample(); p[8] = 1; setIpv4HeaderChecksum(p)
  const before = p.slice()
  assert.equal(decrementTtl(p), false)
  assert.deepEqual(p, before)
})

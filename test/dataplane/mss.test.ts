// MSS clamping as the data plane uses it (src/ip/mss.ts): RFC 9293 §3.7.1 option, RFC 1624
// incremental checksum, verified by recomputing the TCP checksum in full over the pseudo-header.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { clampTcpMss } from '../../src/ip/mss.js'
import { ACK, SYN, mssOpt, readMss, tcp, tcpChecksumOk, udp } from './packets.js'

const A = '198.19.0.10', B = '203.0.113.5'

test('clamps a SYN MSS above the limit and keeps the TCP checksum valid', () => {
  const p = tcp({ src: A, dst: B, flags: SYN, options: new Uint8Array(mssOpt(1460)) })
  assert.ok(tcpChecksumOk(p))
  assert.equal(clampTcpMss(p, 1327), true)
  assert.equal(readMss(p), 1327)
  assert.ok(tcpChecksumOk(p))
})

test('clamps SYN-ACK too (both directions of the handshake)', () => {
  const p = tcp({ src: B, dst: A, flags: SYN | ACK, options: new Uint8Array([1, 1, 4, 2, ...mssOpt(8960)]) })
  assert.equal(clampTcpMss(p, 1327), true)
  assert.equal(readMss(p), 1327)
  assert.ok(tcpChecksumOk(p))
})

test('an odd-aligned MSS option (after one NOP) straddles two checksum words', () => {
  const p = tcp({ src: A, dst: B, flags: SYN, options: new Uint8Array([1, ...mssOpt(0xfedc), 1, 1, 0]) })
  assert.ok(tcpChecksumOk(p))
  assert.equal(clampTcpMss(p, 0x0123), true)
  assert.equal(readMss(p), 0x0123)
  assert.ok(tcpChecksumOk(p))
})

test('leaves an MSS at or below the limit, non-SYN segments, non-TCP and fragments alone', () => {
  const low = tcp({ src: A, dst: B, flags: SYN, options: new Uint8Array(mssOpt(1200)) })
  assert.equal(clampTcpMss(low, 1327), false)
  assert.equal(readMss(low), 1200)
  const ack = tcp({ src: A, dst: B, flags: ACK, options: new Uint8Array(mssOpt(1460)) })
  assert.equal(clampTcpMss(ack, 1327), false)
  assert.equal(readMss(ack), 1460)
  assert.equal(clampTcpMss(udp(A, B), 1327), false)
  const frag = tcp({ src: A, dst: B, flags: SYN, options: new Uint8Array(mssOpt(1460)), fragOffset: 100 })
  assert.equal(clampTcpMss(frag, 1327), false)
  const none = tcp({ src: A, dst: B, flags: SYN, options: new Uint8Array([1, 1, 1, 0]) })
  assert.equal(clampTcpMss(none, 1327), false)
})

test('malformed options (zero length, running past the header) are left untouched', () => {
  const zeroLen = tcp({ src: A, dst: B, flags: SYN, options: new Uint8Array([8, 0, 2, 4, 5, 0xb4, 0, 0]) })
  const before = zeroLen.slice()
  assert.equal(clampTcpMss(zeroLen, 536), false)
  assert.deepEqual(zeroLen, before)
  const overrun = tcp({ src: A, dst: B, flags: SYN, options: new Uint8Array([1, 1, 2, 8]) })
  assert.equal(clampTcpMss(overrun, 536), false)
})

test('property: never throws on arbitrary bytes; a change always keeps a valid checksum', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), fc.integer({ min: 0, max: 65535 }), (bytes, max) => {
    clampTcpMss(bytes, max)
  }), { numRuns: 2000 })
  fc.assert(fc.property(
    fc.array(fc.oneof(fc.constant([1]), fc.integer({ min: 0, max: 65535 }).map(mssOpt), fc.constant([4, 2]), fc.constant([3, 3, 7])), { maxLength: 6 }),
    fc.integer({ min: 0, max: 65535 }),
    (parts, max) => {
      const flat = parts.flat()
      while (flat.length % 4 !== 0) flat.push(0)
      if (flat.length > 40) return
      const p = tcp({ src: A, dst: B, flags: SYN, options: new Uint8Array(flat), payload: new Uint8Array([1, 2, 3]) })
      const old = readMss(p)
      const changed = clampTcpMss(p, max)
      assert.ok(tcpChecksumOk(p))
      if (changed) assert.equal(readMss(p), max)
      else if (old !== undefined && flat.indexOf(0) === -1) assert.ok(old <= max)
    }), { numRuns: 2000 })
})

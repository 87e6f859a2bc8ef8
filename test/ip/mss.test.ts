// TCP MSS clamping: rewritten option, valid TCP checksum after the incremental update (checked
// with an independent full recompute), and every case that must be left alone.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { clampTcpMss } from '../../src/ip/mss.js'

/** Independent full TCP checksum over pseudo-header + segment (RFC 9293 §3.1), plain arithmetic. */
function tcpChecksumOk(p: Uint8Array): boolean {
  const hl = (p[0]! & 0x0f) * 4
  const total = p[2]! * 256 + p[3]!
  const seg = p.subarray(hl, total)
  let sum = 0
  for (let i = 12; i < 20; i += 2) sum += p[i]! * 256 + p[i + 1]!
  sum += 6 + seg.length
  for (let i = 0; i < seg.length; i += 2) sum += seg[i]! * 256 + (i + 1 < seg.length ? seg[i + 1]! : 0)
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000)
  return sum === 0xffff
}

function setTcpChecksum(p: Uint8Array): void {
  const hl = (p[0]! & 0x0f) * 4
  const total = p[2]! * 256 + p[3]!
  p[hl + 16] = 0; p[hl + 17] = 0
  const seg = p.subarray(hl, total)
  let sum = 0
  for (let i = 12; i < 20; i += 2) sum += p[i]! * 256 + p[i + 1]!
  sum += 6 + seg.length
  for (let i = 0; i < seg.length; i += 2) sum += seg[i]! * 256 + (i + 1 < seg.length ? seg[i + 1]! : 0)
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000)
  const c = 0xffff - sum
  p[hl + 16] = c >>> 8; p[hl + 17] = c & 0xff
}

/** Builds IPv4 + TCP with the given options (padded to 4 bytes with EOL) and payload. */
function segment(opts: number[], payload: Uint8Array = new Uint8Array(0), flags = 0x02): Uint8Array {
  const optLen = Math.ceil(opts.length / 4) * 4
  const tcpLen = 20 + optLen
  const total = 20 + tcpLen + payload.length
  const p = new Uint8Array(total)
  p.set([0x45, 0, total >>> 8, total & 0xff, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 198, 19, 0, 2, 198, 18, 7, 9])
  p.set([0xc3, 0x50, 0x01, 0xbb, 1, 2, 3, 4, 0, 0, 0, 0, (tcpLen / 4) << 4, flags, 0xff, 0xff, 0, 0, 0, 0], 20)
  p.set(opts, 40)
  p.set(payload, 20 + tcpLen)
  setTcpChecksum(p)
  return p
}

const mssOpt = (v: number): number[] => [2, 4, v >>> 8, v & 0xff]

test('clamps a SYN MSS of 1460 to 1360 and keeps the TCP checksum valid', () => {
  const p = segment([...mssOpt(1460), 1, 3, 3, 7, 4, 2])
  assert.equal(tcpChecksumOk(p), true)
  assert.equal(clampTcpMss(p, 1360), true)
  assert.equal(p[42]! * 256 + p[43]!, 1360)
  assert.equal(tcpChecksumOk(p), true)
})

test('MSS at an odd offset (after one NOP) and SYN-ACK are handled', () => {
  const p = segment([1, ...mssOpt(1460), 1, 1, 1], new Uint8Array([9, 8, 7]), 0x12)
  assert.equal(clampTcpMss(p, 1400), true)
  assert.equal(p[43]! * 256 + p[44]!, 1400)
  assert.equal(tcpChecksumOk(p), true)
})

test('leaves alone: small MSS, no SYN, no MSS option, non-TCP, fragments, malformed options', () => {
  const cases: [string, Uint8Array][] = [
    ['mss already small', segment(mssOpt(1200))],
    ['mss equal', segment(mssOpt(1360))],
    ['not SYN', segment(mssOpt(1460), undefined, 0x10)],
    ['no options', segment([])],
    ['EOL before MSS', segment([0, ...mssOpt(1460)])],
    ['option runs past header', segment([3, 9, 1, 1])],
    ['zero-length option', segment([8, 0, ...mssOpt(1460)])],
    ['MSS with bad length', segment([2, 3, 5, 0xb4])],
  ]
  const udp = segment(mssOpt(1460)); udp[9] = 17; cases.push(['udp', udp])
  const frag = segment(mssOpt(1460)); frag[7] = 1; cases.push(['non-first fragment', frag])
  const cut = segment(mssOpt(1460)).subarray(0, 42); cases.push(['truncated', cut])
  const v6 = segment(mssOpt(1460)); v6[0] = 0x60; cases.push(['not ipv4', v6])
  for (const [name, p] of cases) {
    const before = p.slice()
    assert.equal(clampTcpMss(p, 1360), false, name)
    assert.deepEqual(p, before, name)
  }
})

test('property: after clamping the MSS is min(old, max) and the checksum still verifies', () => {
  const filler = fc.array(fc.oneof(fc.constant([1]), fc.constant([4, 2]), fc.constant([3, 3, 7]), fc.constant([8, 10, 1, 2, 3, 4, 5, 6, 7, 8])), { maxLength: 4 }).map((xs) => xs.flat())
    .filter((o) => o.length <= 36) // TCP options are at most 40 bytes (Data Offset <= 15)
  fc.assert(fc.property(filler, fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 33 }), fc.uint8Array({ minLength: 8, maxLength: 8 }),
    (pre, mss, max, payload, addrs) => {
      const p = segment([...pre, ...mssOpt(mss)], payload)
      p.set(addrs, 12); setTcpChecksum(p)
      const at = 40 + pre.length
      const changed = clampTcpMss(p, max)
      assert.equal(changed, mss > max)
      assert.equal(p[at + 2]! * 256 + p[at + 3]!, Math.min(mss, max))
      assert.equal(tcpChecksumOk(p), true)
    }), { numRuns: 500 })
})

test('never throws on random bytes', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), fc.integer({ min: -5, max: 70000 }), (b, m) => {
    if (b.length > 0) b[0] = 0x40 | (b[0]! & 0x0f)
    assert.equal(typeof clampTcpMss(b, m), 'boolean')
  }))
})

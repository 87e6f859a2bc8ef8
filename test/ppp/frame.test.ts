// PPP frame codec golden bytes: RFC 1662 §3.1 (FF 03), RFC 1661 §6.5/§6.6 (PFC, ACFC).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeFrame, encodeFrame, PppProtocol } from '../../src/ppp/frame.js'
import { DecodeError } from '../../src/lib/errors.js'
import { fromHex, toHex } from '../../src/lib/bytes.js'

const ip = fromHex('4500001c')

test('encode: full header FF 03 + 2-byte protocol by default', () => {
  assert.equal(toHex(encodeFrame(PppProtocol.IPv4, ip)), 'ff030021' + '4500001c')
  assert.equal(toHex(encodeFrame(PppProtocol.LCP, fromHex('01010004'))), 'ff03c021' + '01010004')
})

test('encode: ACFC drops FF 03, PFC gives a 1-byte protocol below 0x100', () => {
  assert.equal(toHex(encodeFrame(PppProtocol.IPv4, ip, { acfc: true, pfc: false })), '0021' + '4500001c')
  assert.equal(toHex(encodeFrame(PppProtocol.IPv4, ip, { acfc: false, pfc: true })), 'ff0321' + '4500001c')
  assert.equal(toHex(encodeFrame(PppProtocol.IPv4, ip, { acfc: true, pfc: true })), '21' + '4500001c')
  // 0x8021 has no one-octet form (RFC 1661 §6.5)
  assert.equal(toHex(encodeFrame(PppProtocol.IPCP, fromHex('01'), { acfc: true, pfc: true })), '8021' + '01')
})

test('encode: LCP never uses ACFC (RFC 1661 §6.6)', () => {
  assert.equal(toHex(encodeFrame(PppProtocol.LCP, fromHex('0901000c'), { acfc: true, pfc: true })), 'ff03c021' + '0901000c')
})

test('decode: all four header forms', () => {
  for (const [hex, acfcUsed, pfcUsed] of [['ff0300214500', false, false], ['00214500', true, false], ['ff03214500', false, true], ['214500', true, true]] as const) {
    const f = decodeFrame(fromHex(hex))
    assert.equal(f.protocol, 0x0021, hex)
    assert.equal(toHex(f.info), '4500', hex)
    assert.equal(f.acfcUsed, acfcUsed, hex)
    assert.equal(f.pfcUsed, pfcUsed, hex)
  }
  const lcp = decodeFrame(fromHex('c02109'))
  assert.equal(lcp.protocol, 0xc021)
  assert.equal(toHex(lcp.info), '09')
})

test('decode: malformed frames throw DecodeError only', () => {
  for (const hex of ['', 'ff03', 'c0', 'ff03c0', 'c020aa', '0000']) {
    assert.throws(() => decodeFrame(fromHex(hex)), DecodeError, hex)
  }
})

test('decode: random bytes never throw anything but DecodeError', () => {
  let s = 7
  for (let i = 0; i < 2000; i++) {
    const n = i % 7
    const b = new Uint8Array(n)
    for (let j = 0; j < n; j++) { s = (s * 1103515245 + 12345) >>> 0; b[j] = s >>> 24 }
    try { decodeFrame(b) } catch (e) { assert.ok(e instanceof DecodeError) }
  }
})

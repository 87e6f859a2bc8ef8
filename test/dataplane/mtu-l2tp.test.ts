// Plain L2TP tunnel MTU (dataplane/mtu.ts): 1500 - 20 IPv4 (RFC 791) - 8 UDP (RFC 768) - 10 L2TP data
// header with Ns/Nr (RFC 2661 §3.1) - 4 PPP - 2 MPPE header - 2 encrypted protocol (RFC 3078 §3) = 1454.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { L2TP_DATA_HEADER_MAX, tunnelMss, tunnelMtu } from '../../src/dataplane/mtu.js'
import { dataHeaderLength, encodeData } from '../../src/l2tp/header.js'

test('L2TP over 1500: MTU 1454, MSS 1414', () => {
  assert.equal(tunnelMtu('l2tp'), 1500 - 20 - 8 - 10 - 4 - 2 - 2)
  assert.equal(tunnelMtu('l2tp'), 1454)
  assert.equal(tunnelMss(tunnelMtu('l2tp')), 1414)
  for (const path of [1280, 1400, 1492, 1500, 9000]) assert.equal(tunnelMtu('l2tp', path) + 20 + 8 + 10 + 4 + 2 + 2, path)
  assert.throws(() => tunnelMtu('l2tp', 600), RangeError)
})

test('the L2TP header term is the largest data header our cores send (with Ns/Nr, no L, no O)', () => {
  assert.equal(dataHeaderLength({ tunnelId: 1, sessionId: 1, ns: 0 }), L2TP_DATA_HEADER_MAX)
  assert.ok(dataHeaderLength({ tunnelId: 1, sessionId: 1 }) < L2TP_DATA_HEADER_MAX)
  // A full-size MPPE-encrypted PPP frame of an MTU-sized packet fills a 1500-byte UDP datagram exactly.
  const frame = new Uint8Array(4 + 2 + 2 + tunnelMtu('l2tp'))
  const dgram = encodeData({ tunnelId: 1, sessionId: 1, ns: 5 }, frame)
  assert.equal(20 + 8 + dgram.length, 1500)
  // §3.1 flags: T=0 (data), L=0, S=1 (Ns/Nr present), O=0, Ver=2.
  assert.equal(dgram[0], 0x08)
  assert.equal(dgram[1], 0x02)
})

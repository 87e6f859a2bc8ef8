// Tunnel MTU/MSS (src/dataplane/mtu.ts): the arithmetic for SSTP over a 1500-byte path.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { tlsPlaintextRoom, tunnelMss, tunnelMtu } from '../../src/dataplane/mtu.js'

test('SSTP over 1500: 1448-byte segment -> 1375 TLS plaintext (CBC-SHA384) -> MTU 1367, MSS 1327', () => {
  assert.equal(tlsPlaintextRoom(1448), 1375)
  assert.equal(tunnelMtu('sstp'), 1367)
  assert.equal(tunnelMss(tunnelMtu('sstp')), 1327)
})

test('a full inner packet fits one TLS record in one TCP segment for every suite family', () => {
  for (const path of [1280, 1400, 1492, 1500, 9000]) {
    const mtu = tunnelMtu('sstp', path)
    const plaintext = mtu + 4 + 4
    const seg = path - 20 - 32
    // CBC: header + IV + blocks(plaintext + MAC48 + padlen byte)
    assert.ok(5 + 16 + Math.ceil((plaintext + 48 + 1) / 16) * 16 <= seg, `cbc ${path}`)
    assert.ok(5 + 8 + plaintext + 16 <= seg, `gcm ${path}`)
    assert.ok(5 + plaintext + 1 + 16 <= seg, `tls13 ${path}`)
    // and it is tight: 16 more bytes would break the CBC bound
    assert.ok(5 + 16 + Math.ceil((plaintext + 16 + 48 + 1) / 16) * 16 > seg, `tight ${path}`)
  }
})

test('refuses paths too small for a useful tunnel', () => {
  assert.throws(() => tunnelMtu('sstp', 600), RangeError)
})

test('PPTP over 1500: 20 IPv4 + 16 GRE (RFC 2637 §4.1) + 4 PPP + 2 MPPE header + 2 inner protocol (RFC 3078 §3) -> 1456', () => {
  assert.equal(tunnelMtu('pptp'), 1500 - 20 - 16 - 4 - 2 - 2)
  assert.equal(tunnelMtu('pptp'), 1456)
  assert.equal(tunnelMss(tunnelMtu('pptp')), 1416)
  // a full inner packet plus every header is exactly the path MTU, so it never fragments
  for (const path of [1280, 1400, 1492, 1500, 9000]) assert.equal(tunnelMtu('pptp', path) + 20 + 16 + 4 + 2 + 2, path)
  assert.ok(tunnelMtu('pptp') >= 1400, 'not below what Windows configures')
  assert.throws(() => tunnelMtu('pptp', 600), RangeError)
})

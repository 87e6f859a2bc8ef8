// Server core <-> client core in memory with real PppSessions (MS-CHAPv2, verdict from verifyMsChapV2):
// [MS-SSTP] §3.2/§3.3 call establishment, crypto binding before data, Hello/echo, disconnect and abort.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/lib/bytes.js'
import { Pair, ipPacket } from './harness.js'
import { hx } from './load-vectors.js'

function upPair(p = new Pair()): Pair {
  p.run(30_000, () => p.ev('server', 'up').length > 0 && p.ev('client', 'up').length > 0)
  return p
}

test('pair: HTTP, Call Connect, PPP MS-CHAPv2, Call Connected (SHA-256 binding) -> up on both sides', () => {
  const p = upPair()
  const su = p.ev('server', 'up')[0]
  const cu = p.ev('client', 'up')[0]
  assert.ok(su && su.type === 'up' && cu && cu.type === 'up', JSON.stringify({ s: p.serverEvents, c: p.clientEvents, sc: p.server.counters(), cc: p.client.counters() }))
  assert.equal(su.peerAddress, '198.19.0.10')
  assert.equal(cu.localAddress, '198.19.0.10')
  assert.equal(cu.peerAddress, '198.19.0.1')
  assert.deepEqual(cu.dns, ['198.19.0.53'])
  assert.equal(p.ev('server', 'authRequest').length, 1)
  assert.equal(p.ev('client', 'authenticated').length, 1)
  assert.equal(p.server.counters()['binding:ok-sha256'], 1)
  assert.equal(p.server.currentState, 'call-connected')
  assert.equal(p.client.currentState, 'call-connected')
  // The first bytes on the wire are the HTTP request, then the server's 200.
  assert.match(new TextDecoder().decode(p.toServer[0]!), /^SSTP_DUPLEX_POST \/sra_\{BA195980-CD49-458b-9E23-C84EE0ADCD75\}\/ HTTP\/1\.1\r\n/)
  assert.match(new TextDecoder().decode(p.toClient[0]!), /^HTTP\/1\.1 200 OK\r\n/)
  // Call Connected (10 01 00 70 00 04) went to the server exactly once.
  assert.equal(p.toServer.filter((b) => toHex(b.subarray(0, 6)) === '100100700004').length, 1)
})

test('pair: an IP packet each way after up', () => {
  const p = upPair()
  const up = ipPacket('198.19.0.10', '10.0.0.1', 1)
  const down = ipPacket('10.0.0.1', '198.19.0.10', 2)
  p.client.sendIp(up)
  p.server.sendIp(down)
  p.pump()
  const si = p.ev('server', 'ip')
  const ci = p.ev('client', 'ip')
  assert.equal(si.length, 1)
  assert.equal(ci.length, 1)
  assert.deepEqual(si[0]!.type === 'ip' && si[0]!.packet, up) // plain Uint8Array views even though Buffers came in
  assert.deepEqual(ci[0]!.type === 'ip' && ci[0]!.packet, down)
})

test('pair: a client binding to another certificate is refused before any traffic (crypto-binding-failed)', () => {
  const p = new Pair({ client: { serverCertDer: new Uint8Array(420).fill(1) } })
  p.run(30_000, () => p.closed('server') !== undefined && p.closed('client') !== undefined)
  assert.equal(p.closed('server')?.reason, 'crypto-binding-failed')
  assert.equal(p.server.counters()['binding:cert-hash'], 1)
  assert.equal(p.ev('server', 'up').length, 0)
  assert.equal(p.ev('client', 'up').length, 0)
  assert.equal(p.closed('client')?.reason, 'peer-aborted')
  // Call Abort (type 5) carried Status Info about the Crypto Binding attribute.
  assert.ok(p.toClient.some((b) => toHex(b) === toHex(hx('10 01 00 14 00 05 00 01 00 02 00 0C 00 00 00 03 00 00 00 07'))))
})

test('pair: a wrong HLAK (man in the middle without the PPP keys) is refused by the Compound MAC check', () => {
  const p = new Pair()
  // Corrupt the client's Call Connected MAC on the wire: same effect as a relay that lacks the HLAK.
  const orig = p.server.handleBytes.bind(p.server)
  p.server.handleBytes = (now, chunk) => {
    if (chunk.length === 112 && chunk[5] === 0x04) { const c = chunk.slice(); c[100]! ^= 0x80; orig(now, c); return }
    orig(now, chunk)
  }
  p.run(30_000, () => p.closed('server') !== undefined)
  assert.equal(p.closed('server')?.reason, 'crypto-binding-failed')
  assert.equal(p.server.counters()['binding:compound-mac'], 1)
  assert.equal(p.ev('server', 'up').length, 0)
})

test('pair: wrong password -> server closes with auth-failed, no up anywhere', () => {
  const p = new Pair({ clientPassword: 'wrong' })
  p.run(60_000, () => p.closed('server') !== undefined && p.closed('client') !== undefined)
  assert.equal(p.closed('server')?.reason, 'auth-failed')
  assert.ok(p.closed('client'))
  assert.equal(p.ev('server', 'up').length + p.ev('client', 'up').length, 0)
})

test('pair: client close() -> Call Disconnect / Ack; both closed exactly once', () => {
  const p = upPair()
  p.client.close(p.clock.now, 'admin', 'user disconnected')
  p.run(10_000, () => p.closed('server') !== undefined && p.closed('client') !== undefined)
  assert.equal(p.closed('client')?.reason, 'admin')
  assert.ok(['peer-disconnected', 'peer-terminated'].includes(p.closed('server')!.reason), p.closed('server')!.reason)
  p.run(60_000)
  assert.equal(p.ev('server', 'closed').length, 1)
  assert.equal(p.ev('client', 'closed').length, 1)
  assert.equal(p.server.nextTimeout(), undefined)
})

test('pair: server close() (admin) reaches the client', () => {
  const p = upPair()
  p.server.close(p.clock.now, 'admin', 'kicked by administrator')
  p.run(10_000, () => p.closed('server') !== undefined && p.closed('client') !== undefined)
  assert.equal(p.closed('server')?.reason, 'admin')
  assert.ok(p.closed('client'))
})

test('pair: Hello timer — idle link is kept alive by Echo Request/Response; a silent peer is dropped with echo-timeout', () => {
  const p = upPair(new Pair({ pppServer: { echoIntervalMs: 0 }, pppClient: { echoIntervalMs: 0 } }))
  p.run(200_000)
  assert.equal(p.closed('server'), undefined)
  assert.equal(p.closed('client'), undefined)
  assert.ok(p.toClient.some((b) => toHex(b) === '1001000800080000') || p.toServer.some((b) => toHex(b) === '1001000800080000'))
  p.deliverToClient = false
  const t0 = p.clock.now
  p.run(300_000, () => p.closed('client') !== undefined)
  assert.equal(p.closed('client')?.reason, 'echo-timeout')
  assert.ok(p.clock.now - t0 <= 120_000 + 1)
})

test('pair: EOF from the TLS layer closes with eof', () => {
  const p = upPair()
  p.server.handleEof(p.clock.now)
  p.pump()
  assert.equal(p.closed('server')?.reason, 'eof')
  p.server.handleEof(p.clock.now)
  p.server.handleBytes(p.clock.now, new Uint8Array([1, 2, 3]))
  p.pump()
  assert.equal(p.ev('server', 'closed').length, 1)
  assert.equal(p.server.counters()['drop:after-close'], 1)
})

test('pair: IP before up is dropped and counted, not sent', () => {
  const p = new Pair()
  p.client.sendIp(ipPacket('1.1.1.1', '2.2.2.2', 0))
  assert.equal(p.client.pollTransmit()?.[0], 0x53) // only the HTTP request ("S...") is queued
  assert.equal(p.client.pollTransmit(), undefined)
  assert.equal(p.client.counters()['drop:ip-not-up'], 1)
})

test('pair: server offers SHA-1|SHA-256 (bitmask 3) when it has both hashes; a SHA-1-only offer makes the client bind with SHA-1', () => {
  const p = new Pair()
  // Rewrite the Ack's bitmask 03 -> 01 on the way to the client, as an old server offering only SHA-1 would send.
  const orig = p.client.handleBytes.bind(p.client)
  let seen = -1
  p.client.handleBytes = (now, chunk) => {
    if (chunk.length === 48 && chunk[5] === 0x02) { seen = chunk[15]!; const c = chunk.slice(); c[15] = 0x01; orig(now, c); return }
    orig(now, chunk)
  }
  upPair(p)
  assert.equal(seen, 3)
  assert.equal(p.server.counters()['binding:ok-sha1'], 1)
  assert.equal(p.ev('server', 'up').length, 1)
  assert.equal(p.ev('client', 'up').length, 1)
})

test('pair: until the server verifies Call Connected, client IP is dropped and the server is not up (§3.3.5)', () => {
  const p = new Pair()
  const orig = p.server.handleBytes.bind(p.server)
  let held: Uint8Array | undefined
  p.server.handleBytes = (now, chunk) => {
    if (!held && chunk.length === 112 && chunk[5] === 0x04) { held = new Uint8Array(chunk); return }
    orig(now, chunk)
  }
  p.run(30_000, () => p.ev('client', 'up').length > 0)
  assert.ok(held, 'Call Connected was held back')
  assert.equal(p.ev('client', 'up').length, 1) // IPCP finished on both sides meanwhile (control frames pass)
  assert.equal(p.ev('server', 'up').length, 0)
  p.client.sendIp(ipPacket('198.19.0.10', '10.0.0.1', 7))
  p.pump()
  assert.equal(p.server.counters()['drop:data-before-call-connected'], 1)
  assert.equal(p.ev('server', 'ip').length, 0)
  orig(p.clock.now, held)
  p.pump()
  assert.equal(p.ev('server', 'up').length, 1)
  p.client.sendIp(ipPacket('198.19.0.10', '10.0.0.1', 8))
  p.pump()
  assert.equal(p.ev('server', 'ip').length, 1)
})

test('pair: simultaneous close() on both sides (Call Disconnect collision) closes each exactly once, within the timers', () => {
  const p = upPair()
  const t0 = p.clock.now
  p.client.close(t0, 'admin', 'client leaves')
  p.server.close(t0, 'admin', 'server shuts down')
  p.run(20_000, () => p.closed('server') !== undefined && p.closed('client') !== undefined)
  assert.equal(p.closed('client')?.reason, 'admin')
  assert.equal(p.closed('server')?.reason, 'admin')
  assert.ok(p.clock.now - t0 <= 5000)
  p.run(30_000)
  assert.equal(p.ev('server', 'closed').length + p.ev('client', 'closed').length, 2)
})

test('pair: Call Abort collision (§3.1.2.1): both abort at once, both close after TIMER_2', () => {
  const p = upPair()
  const t0 = p.clock.now
  // Both sides see an invalid message at the same moment and abort.
  const garbage = hx('10 01 00 08 00 77 00 00')
  p.server.handleBytes(t0, garbage)
  p.client.handleBytes(t0, garbage)
  p.run(20_000, () => p.closed('server') !== undefined && p.closed('client') !== undefined)
  assert.equal(p.closed('server')?.reason, 'protocol-error')
  assert.equal(p.closed('client')?.reason, 'protocol-error')
  assert.ok(p.clock.now - t0 <= 1000, `${p.clock.now - t0} ms`)
  assert.equal(p.server.counters()['rule:unknown-message-type'], 1)
})

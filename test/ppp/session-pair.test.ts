// Pair tests: a server and a client PppSession back to back (RFC 1661 phases, LCP, auth with the
// real PPP auth cores from src/ppp/auth, IPCP with RFC 1877 DNS), with loss, failure and teardown.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Pair, ASSIGNED } from './pair-harness.js'
import { PppSession } from '../../src/ppp/session.js'
import { fromHex, toHex } from '../../src/lib/bytes.js'
import { fixedRng } from '../helpers/clock.js'
import type { PppAuthMethod } from '../../src/ppp/auth/types.js'

const IP_PACKET = fromHex('450000200001000040110000c613000ac6130001' + '1234abcd00080000' + 'deadbeef')

function upPair(method: PppAuthMethod = 'mschapv2'): Pair {
  const p = new Pair({ server: { authMethods: [method] }, client: { acceptAuthMethods: [method] } })
  p.open()
  p.run(100)
  return p
}

for (const method of ['mschapv2', 'eap', 'chap-md5', 'pap'] as const) {
  test(`full LCP + ${method} + IPCP to 'up' with the verdict address and DNS pushed`, () => {
    const p = upPair(method)
    assert.equal(p.server.phase, 'network')
    assert.equal(p.client.phase, 'network')
    const req = p.find('server', 'authRequest')
    assert.ok(req && req.type === 'authRequest')
    assert.equal(req.proof.method, method === 'eap' ? 'mschapv2' : method) // EAP carries EAP-MS-CHAPv2 by default
    assert.equal(req.proof.user, 'alice')
    const sAuth = p.find('server', 'authenticated')
    assert.ok(sAuth && sAuth.type === 'authenticated' && sAuth.user === 'alice')
    if (method === 'mschapv2' || method === 'eap') assert.equal(sAuth.keys?.masterKey.length, 16)
    assert.ok(p.find('client', 'authenticated'))
    const sUp = p.find('server', 'up')
    assert.deepEqual(sUp, { type: 'up', localAddress: '198.19.0.1', peerAddress: ASSIGNED, dns: ['198.19.0.53', '9.9.9.9'], wins: [] })
    const cUp = p.find('client', 'up')
    assert.deepEqual(cUp, { type: 'up', localAddress: ASSIGNED, peerAddress: '198.19.0.1', dns: ['198.19.0.53', '9.9.9.9'], wins: [] })
    // Server events in order: authRequest, authenticated, up.
    assert.deepEqual(p.serverEvents.map((e) => e.type), ['authRequest', 'authenticated', 'up'])
  })
}

test('the server walks the client Nak from EAP to MS-CHAPv2', () => {
  const p = new Pair({ server: { authMethods: ['eap', 'chap-md5', 'mschapv2'] }, client: { acceptAuthMethods: ['mschapv2'] } })
  p.open(); p.run(100)
  const r = p.find('server', 'authRequest')
  assert.ok(r && r.type === 'authRequest' && r.proof.method === 'mschapv2')
  assert.ok(p.find('client', 'up'))
})

test('lost packets: dropping the first frames each way is recovered by retransmission', () => {
  for (const [toS, toC] of [[1, 0], [0, 1], [3, 2], [2, 5]] as const) {
    const p = new Pair()
    p.dropToServer = toS
    p.dropToClient = toC
    p.open()
    p.run(40_000)
    assert.ok(p.find('server', 'up'), `server up with drops ${toS}/${toC}`)
    assert.ok(p.find('client', 'up'), `client up with drops ${toS}/${toC}`)
    assert.equal(p.find('server', 'down'), undefined)
  }
})

test('wrong password: both sides go down with auth-failed', () => {
  const p = new Pair({ client: { password: 'wrong' } })
  p.open()
  p.run(20_000)
  const s = p.find('server', 'down'), c = p.find('client', 'down')
  assert.ok(s && s.type === 'down' && s.reason === 'auth-failed', JSON.stringify(s))
  assert.ok(c && c.type === 'down' && c.reason === 'auth-failed', JSON.stringify(c))
  assert.equal(p.find('server', 'up'), undefined)
  assert.equal(p.server.phase, 'dead')
  assert.equal(p.client.phase, 'dead')
})

test('peer silence after up: echo-timeout within interval x failures after the first unanswered Echo-Request', () => {
  const p = upPair()
  const silentFrom = p.clock.now
  p.cutToClient = true
  p.run(100_000)
  const c = p.find('client', 'down')
  assert.ok(c && c.type === 'down' && c.reason === 'echo-timeout', JSON.stringify(c))
  const echoes = p.sentToServer.filter((f) => toHex(f).startsWith('ff03c02109'))
  assert.equal(echoes.length, 3, 'three Echo-Requests, then down')
  assert.equal(p.client.phase, 'dead')
  assert.equal(p.client.nextTimeout(), undefined)
  void silentFrom
})

test('echo-timeout timing: down exactly failures x interval after the first Echo-Request', () => {
  const p = upPair()
  p.cutToClient = true
  let firstEcho: number | undefined
  let downAt: number | undefined
  for (let i = 0; i < 100_000 && downAt === undefined; i++) {
    p.run(100)
    if (firstEcho === undefined && p.sentToServer.some((f) => toHex(f).startsWith('ff03c02109'))) firstEcho = p.clock.now
    if (p.find('client', 'down')) downAt = p.clock.now
  }
  assert.ok(firstEcho !== undefined && downAt !== undefined)
  // run() steps in 100 ms slices, so both times are rounded up to the slice end.
  assert.ok(Math.abs(downAt - firstEcho - 3 * 10_000) <= 100, `down ${downAt - firstEcho} ms after the first echo`)
})

test('echo keepalive: a quiet but answering peer stays up', () => {
  const p = upPair()
  p.run(120_000)
  assert.equal(p.find('client', 'down'), undefined)
  assert.equal(p.find('server', 'down'), undefined)
  assert.ok(p.sentToServer.some((f) => toHex(f).startsWith('ff03c02109')))
  assert.ok(p.sentToClient.some((f) => toHex(f).startsWith('ff03c0210a')))
})

test('IP packet round trip both ways; counters', () => {
  const p = upPair()
  const f = p.client.encodeIp(IP_PACKET)!
  assert.equal(toHex(f), 'ff030021' + toHex(IP_PACKET))
  p.server.handleFrame(p.clock.now, f)
  const e = p.server.pollEvent()
  assert.ok(e && e.type === 'ip')
  assert.equal(toHex(e.packet), toHex(IP_PACKET))
  const back = p.server.encodeIp(IP_PACKET)!
  p.client.handleFrame(p.clock.now, back)
  const e2 = p.client.pollEvent()
  assert.ok(e2 && e2.type === 'ip' && toHex(e2.packet) === toHex(IP_PACKET))
  const c = p.server.counters()
  assert.equal(c.ipPacketsIn, 1)
  assert.equal(c.ipPacketsOut, 1)
  assert.ok((c.framesIn ?? 0) > 3 && (c.bytesIn ?? 0) > 40 && (c.framesOut ?? 0) > 3 && (c.bytesOut ?? 0) > 40)
})

test('encodeIp refuses IPv6 and runt packets: only IPCP is negotiated', () => {
  const p = upPair()
  const v6 = new Uint8Array(40)
  v6[0] = 0x60
  assert.equal(p.client.encodeIp(v6), undefined)
  assert.equal(p.client.encodeIp(IP_PACKET.subarray(0, 19)), undefined)
  assert.equal(p.client.counters()['drop.tx-not-ipv4'], 2)
  assert.ok(p.client.encodeIp(IP_PACKET))
})

test('encodeIp before IPCP is open returns undefined; IPv4 before network is dropped', () => {
  const p = new Pair()
  assert.equal(p.client.encodeIp(IP_PACKET), undefined)
  p.server.open(p.clock.now)
  p.server.handleFrame(p.clock.now, fromHex('ff030021' + toHex(IP_PACKET)))
  assert.equal(p.server.counters()['drop.ip-not-open'], 1)
})

for (const side of ['server', 'client'] as const) {
  test(`close() from the ${side}: both sides down, the peer sees peer-terminated with the message`, () => {
    const p = upPair()
    const closer = side === 'server' ? p.server : p.client
    closer.close(p.clock.now, 'admin', 'maintenance window')
    p.run(10_000)
    const mine = p.find(side, 'down')
    const theirs = p.find(side === 'server' ? 'client' : 'server', 'down')
    assert.deepEqual(mine, { type: 'down', reason: 'admin', message: 'maintenance window' })
    assert.deepEqual(theirs, { type: 'down', reason: 'peer-terminated', message: 'maintenance window' })
    assert.equal(p.server.phase, 'dead')
    assert.equal(p.client.phase, 'dead')
  })
}

test('lowerDown: immediate down with the carrier reason', () => {
  const p = upPair()
  p.server.lowerDown(p.clock.now, 'lower-down', 'TCP reset')
  assert.deepEqual(p.server.pollEvent(), { type: 'down', reason: 'lower-down', message: 'TCP reset' })
  assert.equal(p.server.nextTimeout(), undefined)
})

test('unknown protocols: Protocol-Reject in network phase only (RFC 1661 §5.7), link stays up', () => {
  const p = upPair()
  p.server.handleFrame(p.clock.now, fromHex('ff0380fd' + '0101000a' + '120600000001')) // CCP Configure-Request (MPPE)
  const f = p.server.pollFrame()!
  assert.equal(toHex(f).slice(0, 12), 'ff03c0210802') // LCP Protocol-Reject
  assert.equal(toHex(f).slice(16), '80fd' + '0101000a120600000001')
  assert.equal(toHex(f).slice(12, 16), (4 + 2 + 10).toString(16).padStart(4, '0'))
  p.client.handleFrame(p.clock.now, f) // client learns CCP is rejected; nothing breaks
  p.run(100)
  assert.equal(p.find('client', 'down'), undefined)
  // before the network phase: silently discarded
  const q = new Pair()
  q.server.open(q.clock.now)
  while (q.server.pollFrame()) { /* drain */ }
  q.server.handleFrame(q.clock.now, fromHex('ff038057' + '01010004'))
  assert.equal(q.server.pollFrame(), undefined)
  assert.equal(q.server.counters()['drop.unknown-protocol'], 1)
})

test('auth packets before the auth phase are dropped and counted', () => {
  const p = new Pair()
  p.server.open(p.clock.now)
  p.server.handleFrame(p.clock.now, fromHex('ff03c223' + '0201000a0000000000'))
  assert.equal(p.server.counters()['drop.auth-unexpected'], 1)
})

test('negotiation-timeout: AAA never answers', () => {
  const p = new Pair({ answerAuth: false, client: { restartMs: 10_000 } })
  p.open()
  p.run(61_000)
  const s = p.find('server', 'down')
  assert.ok(s && s.type === 'down' && s.reason === 'negotiation-timeout', JSON.stringify(s))
})

test('a silent peer: LCP gives up after Max-Configure (negotiation-failed)', () => {
  const s = new PppSession({ role: 'server', rng: fixedRng(3), authMethods: ['mschapv2'], authName: 'gw', localAddress: '198.19.0.1' }, 0)
  s.open(0)
  let n = 0
  for (let t = s.nextTimeout(); t !== undefined && n < 100; t = s.nextTimeout(), n++) s.handleTimeout(t)
  let frames = 0
  while (s.pollFrame()) frames++
  assert.equal(frames, 10)
  const e = s.pollEvent()
  assert.ok(e && e.type === 'down' && e.reason === 'negotiation-failed', JSON.stringify(e))
})

test('hostile frames at every phase never throw', () => {
  const p = new Pair()
  p.open()
  let seed = 99
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 24 }
  const prefixes = ['ff03c021', 'c021', 'ff03c223', 'ff038021', 'ff030021', '21', 'ff03c023', 'ff03c227', '']
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 600; i++) {
      const body = new Uint8Array(rnd() % 24)
      for (let j = 0; j < body.length; j++) body[j] = rnd()
      if (body.length >= 4 && i % 2 === 0) { body[2] = 0; body[3] = body.length }
      const frame = fromHex(prefixes[i % prefixes.length]! + toHex(body))
      p.server.handleFrame(p.clock.now, frame)
      p.client.handleFrame(p.clock.now, frame)
    }
    p.run(5_000)
  }
})

test('close() before open() ends at once', () => {
  const p = new Pair()
  p.client.close(p.clock.now, 'admin', 'never mind')
  assert.deepEqual(p.client.pollEvent(), { type: 'down', reason: 'admin', message: 'never mind' })
})

test('LCP renegotiation after up (peer sends a new Configure-Request): auth and IPCP run again', () => {
  const p = upPair()
  // A Configure-Request in Opened: tld,scr,sca/Ack-Sent (RFC 1661 §4.1); the server's new request
  // then drives the client through the same cell, and both renegotiate from scratch.
  p.server.handleFrame(p.clock.now, fromHex('ff03c021' + '0177000a' + '0506cafebabe'))
  assert.equal(p.server.phase, 'establish')
  p.run(30_000)
  assert.equal(p.serverEvents.filter((e) => e.type === 'authRequest').length, 2)
  assert.equal(p.serverEvents.filter((e) => e.type === 'up').length, 2)
  assert.equal(p.find('server', 'down'), undefined)
  assert.equal(p.server.phase, 'network')
})

test('Windows-like client LCP request to the server: exactly 13, 17, 19, 23 rejected', () => {
  const p = new Pair()
  p.server.open(p.clock.now)
  while (p.server.pollFrame()) { /* our request */ }
  const opts = '01040578' + '050611223344' + '0702' + '0802' + '0d0306' + '1104064e' + '1313' + '01000102030405060708090a0b0c0d0e0f' + '17040001'
  const rejected = '0d0306' + '1104064e' + '1313' + '01000102030405060708090a0b0c0d0e0f' + '17040001'
  assert.equal(opts.length / 2, 44)
  p.server.handleFrame(p.clock.now, fromHex('ff03c021' + '01000030' + opts))
  assert.equal(toHex(p.server.pollFrame()!), 'ff03c021' + '04000022' + rejected)
})

test('a factory that throws (method without a core) ends the link with auth-failed, never throws', () => {
  const p = new Pair()
  const broken = { createAuthenticator: () => { throw new Error('no core') }, createAuthPeer: () => { throw new Error('no core') } }
  const s = new PppSession({ role: 'server', rng: fixedRng(5), authMethods: ['mschapv2'], authName: 'gw', localAddress: '198.19.0.1' }, p.clock.now, broken)
  s.open(p.clock.now)
  p.client.open(p.clock.now)
  for (let i = 0; i < 20; i++) {
    for (let f = s.pollFrame(); f; f = s.pollFrame()) p.client.handleFrame(p.clock.now, f)
    for (let f = p.client.pollFrame(); f; f = p.client.pollFrame()) s.handleFrame(p.clock.now, f)
  }
  for (let t = s.nextTimeout(), n = 0; t !== undefined && n < 50; t = s.nextTimeout(), n++) { p.clock.now = t; s.handleTimeout(t); while (s.pollFrame()); }
  const down = [...(function* () { for (let e = s.pollEvent(); e; e = s.pollEvent()) yield e })()].find((e) => e.type === 'down')
  assert.ok(down && down.type === 'down' && down.reason === 'auth-failed', JSON.stringify(down))
})

test('no common auth method: the server gives up with auth-method-refused, the client sees peer-terminated', () => {
  const p = new Pair({ server: { authMethods: ['pap'] }, client: { acceptAuthMethods: ['mschapv2'] } })
  p.open()
  // The client answers the Terminate-Request with Terminate-Ack and stays in Req-Sent (§4.1 RTR
  // column) until Max-Configure runs out: 10 x 3 s.
  p.run(40_000)
  const s = p.find('server', 'down'), c = p.find('client', 'down')
  assert.ok(s && s.type === 'down' && s.reason === 'auth-method-refused', JSON.stringify(s))
  assert.ok(c && c.type === 'down' && c.reason === 'peer-terminated', JSON.stringify(c))
  assert.equal(p.find('server', 'authRequest'), undefined)
})

test('auth failure detail stays local: the Terminate-Request says only "Authentication failed"', () => {
  const p = new Pair({ client: { password: 'wrong' } })
  p.open()
  p.run(20_000)
  const s = p.find('server', 'down')
  assert.ok(s && s.type === 'down' && s.message.includes('alice'))
  const term = p.sentToClient.map(toHex).find((h) => h.startsWith('ff03c02105'))
  assert.ok(term)
  assert.equal(Buffer.from(term.slice(16), 'hex').toString(), 'Authentication failed')
})

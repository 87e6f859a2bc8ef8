// PppSession with CCP/MPPE wired in (RFC 1962 CCP, RFC 3078 MPPE, RFC 3079 keys): two real sessions
// back to back (pair-harness) negotiate MPPE and carry IPv4 as protocol 0x00FD, or fail 'mppe-required'.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Pair, verify } from './pair-harness.js'
import { DEFAULT_MPPE_POLICY, type MppePolicy } from '../../src/ppp/ccp/policy.js'
import { decodeFrame } from '../../src/ppp/frame.js'
import { encodeFrame } from '../../src/ppp/frame.js'
import { fromHex, bytesEqual } from '../../src/lib/bytes.js'
import type { PppEvent } from '../../src/ppp/types.js'
import type { PppAuthMethod } from '../../src/ppp/auth/types.js'

const CLIENT_POLICY: MppePolicy = { required: true, keyBits: [40, 128], stateless: 'allowed' }
// A 20-byte IPv4 header (UDP 198.19.0.10 -> 198.19.0.1) + 8-byte UDP header + 4 bytes payload.
const IP_PACKET = fromHex('450000200001000040110000c613000ac6130001' + '1234abcd00080000' + 'deadbeef')

/** `client: null` = a client without the mppe option. */
function mppePair(method: PppAuthMethod = 'mschapv2', client: MppePolicy | null = CLIENT_POLICY): Pair {
  const p = new Pair({
    server: { authMethods: [method], mppe: DEFAULT_MPPE_POLICY },
    client: { acceptAuthMethods: [method], ...(client ? { mppe: client } : {}) },
  })
  p.open()
  p.run(100)
  return p
}

const protocols = (frames: readonly Uint8Array[]): number[] => frames.map((f) => decodeFrame(f).protocol)
const ips = (events: readonly PppEvent[]): Uint8Array[] => events.flatMap((e) => (e.type === 'ip' ? [e.packet] : []))
const downOf = (events: readonly PppEvent[]) => events.find((e) => e.type === 'down')

for (const method of ['mschapv2', 'eap'] as const) {
  test(`${method}: server DEFAULT_MPPE_POLICY + client 40/128 -> up with 128-bit stateless MPPE`, () => {
    const p = mppePair(method)
    for (const s of [p.server, p.client]) assert.equal(s.phase, 'network')
    assert.ok(p.find('server', 'up'))
    assert.ok(p.find('client', 'up'))
    // CCP (0x80FD) went on the wire in both directions.
    assert.ok(protocols(p.sentToClient).includes(0x80fd))
    assert.ok(protocols(p.sentToServer).includes(0x80fd))
  })
}

test('negotiated parameters: 128-bit stateless on both sides (RFC 3078 §2: S and H bits)', () => {
  const p = mppePair()
  // The session exposes the layer only through behaviour; read it the way a debugger would.
  for (const s of [p.server, p.client]) {
    const ccp = (s as unknown as { ccp: { negotiated?: { bits: number; stateless: boolean }; encrypting: boolean } }).ccp
    assert.equal(ccp.encrypting, true)
    assert.equal(ccp.negotiated?.bits, 128)
    assert.equal(ccp.negotiated?.stateless, true)
  }
})

test("'up' comes after CCP opened: no IP is encodable before MPPE, and events order auth -> up", () => {
  const p = mppePair()
  assert.deepEqual(p.serverEvents.map((e) => e.type), ['authRequest', 'authenticated', 'up'])
  const up = p.serverEvents.findIndex((e) => e.type === 'up')
  assert.ok(up > 0)
})

test('IP round trip both ways is encrypted: frames are 0x00FD, never 0x0021, and decrypt to the packet', () => {
  const p = mppePair()
  const before = { s: p.sentToClient.length, c: p.sentToServer.length }
  for (let i = 0; i < 5; i++) {
    const toClient = p.server.encodeIp(IP_PACKET)
    const toServer = p.client.encodeIp(IP_PACKET)
    assert.ok(toClient && toServer)
    for (const f of [toClient, toServer]) {
      const d = decodeFrame(f)
      assert.equal(d.protocol, 0x00fd)
      // The datagram is not visible in clear on the wire.
      assert.equal(Buffer.from(f).indexOf(Buffer.from(IP_PACKET.subarray(12, 20))), -1)
      // RFC 3078 §3: 2 octets A/B/C/D + coherency count precede the ciphertext; stateless sets A (0x80).
      assert.equal(d.info[0]! & 0x80, 0x80)
      assert.equal(d.info.length, 2 + 2 + IP_PACKET.length)
    }
    p.client.handleFrame(p.clock.now, toClient)
    p.server.handleFrame(p.clock.now, toServer)
    p.pump()
  }
  const sIps = ips(p.serverEvents), cIps = ips(p.clientEvents)
  assert.equal(sIps.length, 5); assert.equal(cIps.length, 5)
  for (const x of [...sIps, ...cIps]) assert.ok(bytesEqual(x, IP_PACKET))
  // Nothing that followed went as plaintext IPv4.
  assert.ok(!protocols(p.sentToClient.slice(before.s)).includes(0x0021))
  assert.ok(!protocols(p.sentToServer.slice(before.c)).includes(0x0021))
  assert.equal(p.server.counters().ipPacketsIn, 5)
  assert.equal(p.client.counters().ipPacketsOut, 5)
})

test('a plaintext 0x0021 frame on an MPPE link is dropped and counted', () => {
  const p = mppePair()
  p.server.handleFrame(p.clock.now, encodeFrame(0x0021, IP_PACKET, { acfc: false, pfc: false }))
  p.pump()
  assert.equal(ips(p.serverEvents).length, 0)
  assert.equal(p.server.counters()['drop.plaintext-with-mppe'], 1)
})

test('hostile 0x00FD frames never throw; MPPE has no integrity, so a flipped ciphertext bit flips the plaintext (RFC 3078 §1)', () => {
  const p = mppePair()
  const f = p.client.encodeIp(IP_PACKET)!
  const bad = f.slice(); bad[bad.length - 1]! ^= 0x01
  assert.doesNotThrow(() => p.server.handleFrame(p.clock.now, bad))
  p.pump()
  const got = ips(p.serverEvents)
  assert.equal(got.length, 1)
  const want = IP_PACKET.slice(); want[want.length - 1]! ^= 0x01 // RC4 is a stream cipher: no authentication
  assert.ok(bytesEqual(got[0]!, want))
  // No MPPE header at all / a header alone: dropped, counted, no throw.
  assert.doesNotThrow(() => p.server.handleFrame(p.clock.now, fromHex('00fd')))
  assert.doesNotThrow(() => p.server.handleFrame(p.clock.now, fromHex('00fd9001')))
  p.pump()
  assert.equal(p.server.phase, 'network')
  assert.equal(ips(p.serverEvents).length, 1)
  // The layer's drop counters (ccp.* / mppe.*) are merged into the session snapshot.
  assert.equal(p.server.counters()['mppe.drop.short'], 2)
})

test('client without the mppe option: it Protocol-Rejects CCP and the server ends with mppe-required', () => {
  const p = mppePair('mschapv2', null)
  p.run(10_000)
  assert.equal(p.client.counters()['protocol-rejected'], 1)
  assert.equal(p.server.counters()['peer-protocol-reject.80fd'], 1)
  const d = downOf(p.serverEvents)
  assert.ok(d && d.type === 'down')
  assert.equal(d.reason, 'mppe-required')
  assert.equal(p.find('server', 'up'), undefined, 'no up on a link that requires MPPE')
  assert.ok(downOf(p.clientEvents))
})

test('PAP with required MPPE: no MasterKey -> mppe-required, never up', () => {
  const p = mppePair('pap')
  p.run(10_000)
  const d = downOf(p.serverEvents)
  assert.ok(d && d.type === 'down')
  assert.equal(d.reason, 'mppe-required')
  assert.equal(p.find('server', 'up'), undefined)
  assert.equal(p.find('client', 'up'), undefined)
})

test('optional MPPE on both sides with PAP: CCP settles without MPPE and the link comes up in plaintext', () => {
  const opt: MppePolicy = { required: false, keyBits: [128], stateless: 'allowed' }
  const p = new Pair({ server: { authMethods: ['pap'], mppe: opt }, client: { acceptAuthMethods: ['pap'], mppe: opt } })
  p.open(); p.run(10_000)
  assert.ok(p.find('server', 'up'))
  const f = p.server.encodeIp(IP_PACKET)
  assert.ok(f)
  assert.equal(decodeFrame(f).protocol, 0x0021)
})

test('without the mppe option nothing changes: no CCP on the wire, IP as 0x0021, peer CCP is Protocol-Rejected', () => {
  const p = new Pair()
  p.open(); p.run(100)
  assert.ok(p.find('server', 'up'))
  assert.ok(!protocols(p.sentToClient).includes(0x80fd))
  assert.ok(!protocols(p.sentToServer).includes(0x80fd))
  const f = p.server.encodeIp(IP_PACKET)!
  assert.equal(decodeFrame(f).protocol, 0x0021)
  // A CCP Configure-Request (RFC 1962 §2, option 18 length 6) from the peer: Protocol-Reject.
  p.server.handleFrame(p.clock.now, encodeFrame(0x80fd, fromHex('0101000a120601000040'), { acfc: false, pfc: false }))
  const rej = p.server.pollFrame()!
  const d = decodeFrame(rej)
  assert.equal(d.protocol, 0xc021)
  assert.equal(d.info[0], 8) // Protocol-Reject (RFC 1661 §5.7)
  assert.equal(p.server.counters()['protocol-rejected'], 1)
})

test('teardown wipes MPPE: after close no IP is encodable', () => {
  const p = mppePair()
  p.server.close(p.clock.now, 'admin', 'bye')
  p.run(10_000)
  assert.equal(p.server.encodeIp(IP_PACKET), undefined)
  assert.equal(downOf(p.serverEvents)?.type, 'down')
})

test('peer restarts CCP (a new Configure-Request while Opened): no IP leaves until MPPE is re-keyed, then traffic resumes', () => {
  const p = mppePair()
  const req = p.sentToServer.find((f) => { const d = decodeFrame(f); return d.protocol === 0x80fd && d.info[0] === 1 })!
  p.server.handleFrame(p.clock.now, req) // RFC 1661 §4.3 Opened + RCR: tld, scr, sca -> keys uninstalled
  assert.equal(p.server.encodeIp(IP_PACKET), undefined)
  assert.equal(p.server.counters()['drop.tx-mppe-not-up'], 1)
  p.run(100)
  const f = p.server.encodeIp(IP_PACKET)
  assert.ok(f)
  assert.equal(decodeFrame(f).protocol, 0x00fd)
  p.client.handleFrame(p.clock.now, f); p.pump()
  const got = ips(p.clientEvents)
  assert.equal(got.length, 1)
  assert.ok(bytesEqual(got[0]!, IP_PACKET))
  assert.equal(p.server.phase, 'network')
})

test('property: any CCP / 0x00FD / 0x0021 payload into an MPPE session never throws and never leaks plaintext out', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom(0x80fd, 0x00fd, 0x0021), fc.uint8Array({ maxLength: 80 })), { maxLength: 12 }), (frames) => {
    const p = mppePair()
    for (const [proto, info] of frames) p.server.handleFrame(p.clock.now, encodeFrame(proto, info, { acfc: false, pfc: false }))
    // Whatever CCP state the junk left, the server never emits plaintext IPv4 (it may end the link).
    for (let f = p.server.pollFrame(); f; f = p.server.pollFrame()) assert.notEqual(decodeFrame(f).protocol, 0x0021)
    const out = p.server.encodeIp(IP_PACKET)
    if (out) assert.equal(decodeFrame(out).protocol, 0x00fd)
  }), { numRuns: 150 })
})

test('MPPE required: our IPCP waits until CCP has installed the keys (as pppd does), so no IPCP precedes the CCP Acks', () => {
  const p = mppePair()
  for (const [dir, frames] of [['to client', p.sentToClient], ['to server', p.sentToServer]] as const) {
    const ps = protocols(frames)
    const firstIpcp = ps.indexOf(0x8021)
    const lastCcp = ps.lastIndexOf(0x80fd)
    assert.ok(firstIpcp > 0, `IPCP sent ${dir}`)
    assert.ok(firstIpcp > ps.indexOf(0x80fd), `IPCP ${dir} only after CCP started`)
    void lastCcp
  }
  // With both sides waiting, each side's first IPCP Configure-Request is answered at once: up within the first run, no 3 s restart.
  assert.equal(p.server.counters()['ipcp.timeouts'] ?? 0, 0)
  assert.ok(p.find('server', 'up') && p.find('client', 'up'))
})

test('an IPCP Configure-Request that arrives before CCP is up (a Windows-style peer) is held and answered once MPPE is on', () => {
  // Answer AAA by hand, and cut client->server first, so the server sits in the Network phase with CCP not yet Opened.
  const p = new Pair({ server: { authMethods: ['mschapv2'], mppe: DEFAULT_MPPE_POLICY }, client: { acceptAuthMethods: ['mschapv2'], mppe: CLIENT_POLICY }, answerAuth: false })
  p.open()
  const req = p.serverEvents.find((e) => e.type === 'authRequest')
  assert.ok(req && req.type === 'authRequest')
  p.cutToServer = true
  p.server.handleAuthResult(p.clock.now, verify(req.proof))
  p.pump()
  assert.equal(p.server.phase, 'network')
  assert.ok(!p.sentToClient.some((f) => decodeFrame(f).protocol === 0x8021), 'no IPCP from the server before CCP is up')
  const early = encodeFrame(0x8021, fromHex('01770010' + '0306c613000a' + '8106c6130063'))
  p.server.handleFrame(p.clock.now, early)
  assert.equal(p.server.counters()['ipcp-held-for-ccp'], 1)
  p.cutToServer = false
  p.run(10_000)
  assert.ok(p.find('server', 'up'))
  // The held request (id 0x77) was answered after CCP: a Configure-Nak/Ack with id 0x77 went to the client.
  const answers = p.sentToClient.map((f) => decodeFrame(f)).filter((d) => d.protocol === 0x8021 && d.info[1] === 0x77)
  assert.equal(answers.length, 1, 'exactly one answer to the held request')
  const ccpIdx = p.sentToClient.findIndex((f) => decodeFrame(f).protocol === 0x80fd)
  const ansIdx = p.sentToClient.findIndex((f) => { const d = decodeFrame(f); return d.protocol === 0x8021 && d.info[1] === 0x77 })
  assert.ok(ansIdx > ccpIdx, 'answered after CCP')
})

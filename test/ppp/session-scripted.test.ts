// A server PppSession driven by a scripted Windows-like peer, frame by frame (hand-written hex):
// LCP with PFC+ACFC (RFC 1661 §6.5/6.6), PAP (RFC 1334), IPCP (RFC 1332) with DNS (RFC 1877), then
// compressed IPv4 frames both ways.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PppSession } from '../../src/ppp/session.js'
import { fromHex, toHex } from '../../src/lib/bytes.js'
import { fixedRng } from '../helpers/clock.js'

test('scripted peer: PFC/ACFC negotiated toward the peer compress every non-LCP frame we send', () => {
  const s = new PppSession({ role: 'server', rng: fixedRng(9), authMethods: ['pap'], authName: 'gw', localAddress: '198.19.0.1', dns: ['198.19.0.53'] }, 0)
  const frames = (): string[] => { const r: string[] = []; for (let f = s.pollFrame(); f; f = s.pollFrame()) r.push(toHex(f)); return r }
  s.open(0)
  const [ourReq] = frames()
  assert.match(ourReq!, /^ff03c02101010012010405780304c0230506[0-9a-f]{8}$/)
  // Peer request: MRU 1400, Magic 11223344, PFC, ACFC -> Ack (the LCP frame keeps FF 03 and 2 bytes).
  s.handleFrame(1, fromHex('ff03c021' + '01010012' + '01040578' + '050611223344' + '0702' + '0802'))
  assert.deepEqual(frames(), ['ff03c021' + '02010012' + '01040578' + '050611223344' + '0702' + '0802'])
  // Peer Acks our request (a compressed LCP frame from the peer is accepted too: liberal receiver).
  s.handleFrame(2, fromHex('c021' + '02' + ourReq!.slice(10)))
  assert.equal(s.phase, 'authenticate')
  // PAP Authenticate-Request: Peer-ID "alice", Password "pw".
  s.handleFrame(3, fromHex('c023' + '0101000d' + '05616c696365' + '027077'))
  const req = s.pollEvent()
  assert.ok(req && req.type === 'authRequest' && req.proof.method === 'pap' && req.proof.password === 'pw')
  s.handleAuthResult(4, { ok: true, user: 'alice', address: '198.19.0.10' })
  const afterAuth = frames()
  // PAP Authenticate-Ack without FF 03 (ACFC); IPCP Configure-Request without FF 03, 2-byte protocol.
  assert.match(afterAuth[0]!, /^c0230201/)
  assert.equal(afterAuth[1], '8021' + '0101000a' + '0306c6130001')
  assert.equal(s.phase, 'network')
  // IPCP: peer asks 0.0.0.0 + DNS, gets Naked, asks again, is Acked; peer Acks ours.
  s.handleFrame(5, fromHex('8021' + '01010010' + '030600000000' + '810600000000'))
  assert.deepEqual(frames(), ['8021' + '03010010' + '0306c613000a' + '8106c6130035'])
  s.handleFrame(6, fromHex('8021' + '01020010' + '0306c613000a' + '8106c6130035'))
  assert.deepEqual(frames(), ['8021' + '02020010' + '0306c613000a' + '8106c6130035'])
  s.handleFrame(7, fromHex('8021' + '0201000a' + '0306c6130001'))
  const evs = [s.pollEvent(), s.pollEvent()]
  assert.equal(evs[0]?.type, 'authenticated')
  assert.deepEqual(evs[1], { type: 'up', localAddress: '198.19.0.1', peerAddress: '198.19.0.10', dns: ['198.19.0.53'], wins: [] })
  // IPv4 with PFC + ACFC: a single 0x21 octet of header.
  const pkt = fromHex('4500001400000000401100000a0000010a000002')
  assert.equal(toHex(s.encodeIp(pkt)!), '21' + toHex(pkt))
  s.handleFrame(8, fromHex('21' + toHex(pkt)))
  const ip = s.pollEvent()
  assert.ok(ip && ip.type === 'ip' && toHex(ip.packet) === toHex(pkt))
  // LCP Echo-Request from the peer: answered with full LCP header.
  s.handleFrame(9, fromHex('c021' + '09050008' + '11223344'))
  assert.match(frames()[0]!, /^ff03c0210a050008[0-9a-f]{8}$/)
  // Peer Terminate-Request with a reason: Terminate-Ack now, 'down' after the Restart timer (zrc, §4.4).
  s.handleFrame(10, fromHex('c021' + '0506000d' + '557365722071756974')) // "User quit"
  assert.deepEqual(frames(), ['ff03c021' + '06060004'])
  assert.equal(s.phase, 'terminate')
  s.handleTimeout(s.nextTimeout()!)
  assert.deepEqual(s.pollEvent(), { type: 'down', reason: 'peer-terminated', message: 'User quit' })
  assert.equal(s.phase, 'dead')
})

// Data plane routing (src/dataplane/dataplane.ts, router.ts): destination lookup,
// anti-spoofing, header checks, client-to-client delivery, counters and MSS clamping both ways.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Dataplane } from '../../src/dataplane/dataplane.js'
import { RouteTable } from '../../src/dataplane/router.js'
import { fromHex } from '../../src/lib/bytes.js'
import { VpnError } from '../../src/lib/errors.js'
import { SYN, ACK, ip, mssOpt, readMss, tcp, tcpChecksumOk, udp } from './packets.js'

function sink() {
  const got: Uint8Array[] = []
  return { got, sendIp(p: Uint8Array) { got.push(p.slice()) } }
}

function setup(opts: { maxMss?: number; clientToClient?: boolean } = {}) {
  const tun: Uint8Array[] = []
  const dp = new Dataplane({ writeTun: (p) => { tun.push(p.slice()) }, ...opts })
  const a = sink(), b = sink()
  const pa = dp.attach('198.19.0.10', a)
  const pb = dp.attach(ip('198.19.0.11'), b)
  return { dp, tun, a, b, pa, pb }
}

test('RouteTable binds each address once and returns counters on removal', () => {
  const t = new RouteTable()
  const r = t.add(ip('198.19.0.10'), sink())
  assert.throws(() => t.add(ip('198.19.0.10'), sink()), (e: unknown) => e instanceof VpnError && e.code === 'ERR_ADDRESS_IN_USE')
  assert.equal(t.get(ip('198.19.0.10')), r)
  assert.equal(t.size, 1)
  assert.equal(t.remove(ip('198.19.0.10')), r)
  assert.equal(t.get(ip('198.19.0.10')), undefined)
  assert.equal(t.remove(ip('198.19.0.10')), undefined)
})

test('TUN batch: each packet goes to the session owning its destination; unknown is counted', () => {
  const { dp, a, b } = setup()
  const p1 = udp('203.0.113.5', '198.19.0.10'), p2 = udp('203.0.113.5', '198.19.0.11'), p3 = udp('203.0.113.5', '198.19.0.99')
  dp.handleTunPackets([p1, p2, p3, p1])
  assert.deepEqual(a.got, [p1, p1])
  assert.deepEqual(b.got, [p2])
  assert.equal(dp.counters.get('no-session'), 1)
  assert.deepEqual(dp.traffic(ip('198.19.0.10')), { inPackets: 0, inBytes: 0, outPackets: 2, outBytes: 2 * p1.length, inDropped: 0 })
  dp.handleTunPackets([new Uint8Array([0x60, 0, 0, 0]), fromHex('6000000000083afffe8000000000000080b1d0b4ff020000000000000000000000000002')])
  assert.equal(dp.counters.get('tun-not-ipv4'), 2)
})

test('session -> TUN with per-session counters; padding after Total Length is trimmed', () => {
  const { dp, tun, pa } = setup()
  const p = udp('198.19.0.10', '203.0.113.5')
  pa.receive(p)
  const padded = new Uint8Array(p.length + 3); padded.set(p)
  pa.receive(padded)
  assert.deepEqual(tun, [p, p])
  assert.deepEqual(pa.traffic, { inPackets: 2, inBytes: 2 * p.length, outPackets: 0, outBytes: 0, inDropped: 0 })
})

test('anti-spoofing: a source other than the assigned address is dropped and counted', () => {
  const { dp, tun, pa, b } = setup()
  pa.receive(udp('198.19.0.11', '203.0.113.5')) // claims B's address
  pa.receive(udp('10.0.0.1', '198.19.0.11'))    // would reach B directly
  assert.equal(tun.length, 0)
  assert.equal(b.got.length, 0)
  assert.equal(dp.counters.get('spoofed-source'), 2)
  assert.equal(pa.traffic.inDropped, 2)
  assert.equal(pa.traffic.inPackets, 0)
})

test('malformed packets from a session are dropped with the fault as the reason, never thrown', () => {
  const { dp, tun, pa } = setup()
  const p = udp('198.19.0.10', '203.0.113.5')
  const badSum = p.slice(); badSum[10] = badSum[10]! ^ 0xff
  pa.receive(badSum)
  pa.receive(p.subarray(0, 10))
  const v6 = p.slice(); v6[0] = 0x60
  pa.receive(v6)
  const long = p.slice(); long[3] = long[3]! + 1 // total length beyond the bytes (checksum now also wrong, length checked first)
  pa.receive(long)
  assert.equal(tun.length, 0)
  const ihl = p.slice(); ihl[0] = 0x44
  pa.receive(ihl)
  assert.deepEqual(dp.counters.snapshot(), { 'ipv4-bad-checksum': 1, 'ipv4-too-short': 1, 'ipv4-bad-version': 1, 'ipv4-bad-total-length': 1, 'ipv4-bad-ihl': 1 })
  assert.equal(pa.traffic.inDropped, 5)
})

test('client-to-client inside the pool is delivered directly, not via the TUN', () => {
  const { dp, tun, pa, b, pb } = setup()
  const p = udp('198.19.0.10', '198.19.0.11')
  pa.receive(p)
  assert.equal(tun.length, 0)
  assert.deepEqual(b.got, [p])
  assert.equal(dp.counters.get('client-to-client'), 1)
  assert.equal(pa.traffic.inPackets, 1)
  assert.equal(pb.traffic.outPackets, 1)
  assert.equal(pb.traffic.outBytes, p.length)
})

test('client-to-client can be denied', () => {
  const { dp, tun, pa, b } = setup({ clientToClient: false })
  pa.receive(udp('198.19.0.10', '198.19.0.11'))
  assert.equal(tun.length + b.got.length, 0)
  assert.equal(dp.counters.get('client-to-client-denied'), 1)
})

test('a packet a client sends to its own address goes to the TUN (the kernel decides)', () => {
  const { tun, pa, a } = setup()
  pa.receive(udp('198.19.0.10', '198.19.0.10'))
  assert.equal(tun.length, 1)
  assert.equal(a.got.length, 0)
})

test('MSS clamp on SYNs both ways: client SYN to the TUN and server SYN-ACK to the session', () => {
  const { dp, tun, pa, a } = setup({ maxMss: 1327 })
  pa.receive(tcp({ src: '198.19.0.10', dst: '203.0.113.5', flags: SYN, options: new Uint8Array(mssOpt(1460)) }))
  dp.handleTunPackets([tcp({ src: '203.0.113.5', dst: '198.19.0.10', flags: SYN | ACK, options: new Uint8Array(mssOpt(1460)) })])
  assert.equal(readMss(tun[0]!), 1327)
  assert.ok(tcpChecksumOk(tun[0]!))
  assert.equal(readMss(a.got[0]!), 1327)
  assert.ok(tcpChecksumOk(a.got[0]!))
  assert.equal(dp.counters.get('mss-clamped'), 2)
})

test('no clamping when maxMss is off', () => {
  const { tun, pa } = setup()
  pa.receive(tcp({ src: '198.19.0.10', dst: '203.0.113.5', flags: SYN, options: new Uint8Array(mssOpt(1460)) }))
  assert.equal(readMss(tun[0]!), 1460)
})

test('a throwing sink or TUN write is counted, not propagated', () => {
  const dp = new Dataplane({ writeTun: () => { throw new Error('EIO') } })
  const port = dp.attach('198.19.0.10', { sendIp() { throw new Error('closed') } })
  dp.handleTunPackets([udp('203.0.113.5', '198.19.0.10')])
  port.receive(udp('198.19.0.10', '203.0.113.5'))
  assert.equal(dp.counters.get('sink-error'), 1)
  assert.equal(dp.counters.get('tun-write-error'), 1)
  assert.equal(port.traffic.outPackets, 0)
})

test('detach: the address is free again, the old port drops, final counters are returned', () => {
  const { dp, pa, tun } = setup()
  pa.receive(udp('198.19.0.10', '203.0.113.5'))
  const final = dp.detach('198.19.0.10')
  assert.equal(final?.inPackets, 1)
  pa.receive(udp('198.19.0.10', '203.0.113.5'))
  assert.equal(dp.counters.get('detached'), 1)
  assert.equal(tun.length, 1)
  const c = sink()
  const pc = dp.attach('198.19.0.10', c)
  pa.detach() // a stale port must not unbind the new session
  dp.handleTunPackets([udp('203.0.113.5', '198.19.0.10')])
  assert.equal(c.got.length, 1)
  pc.detach()
  assert.equal(dp.sessionCount, 1)
  assert.throws(() => dp.attach('198.19.0.300', c), (e: unknown) => e instanceof VpnError && e.code === 'ERR_DATAPLANE_CONFIG')
})

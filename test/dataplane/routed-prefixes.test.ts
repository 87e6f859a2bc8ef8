// Router accounts in the data plane (src/dataplane/dataplane.ts, router.ts): networks behind a
// session by longest match, host addresses first, anti-spoofing with prefixes (strict reverse
// path, RFC 3704 §2.2), overlap refusal at attach (all or nothing), removal at detach.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Dataplane } from '../../src/dataplane/dataplane.js'
import { RouteTable } from '../../src/dataplane/router.js'
import { parsePrefix } from '../../src/ip/prefix.js'
import { VpnError } from '../../src/lib/errors.js'
import { ip, udp } from './packets.js'

function sink() {
  const got: Uint8Array[] = []
  return { got, sendIp(p: Uint8Array) { got.push(p.slice()) } }
}
const isErr = (code: string, message?: RegExp) => (e: unknown): boolean =>
  e instanceof VpnError && e.code === code && (message === undefined || message.test(e.message))

/** r1 is a router account (.10) with 10.2.0.0/24 and 10.3.0.0/16; c is an ordinary client (.11). */
function setup(opts: { clientToClient?: boolean } = {}) {
  const tun: Uint8Array[] = []
  const dp = new Dataplane({ writeTun: (p) => { tun.push(p.slice()) }, ...opts })
  const r1 = sink(), c = sink()
  const pr1 = dp.attach('198.19.0.10', r1, ['10.2.0.0/24', '10.3.0.0/16'])
  const pc = dp.attach('198.19.0.11', c)
  return { dp, tun, r1, c, pr1, pc }
}

test('TUN -> the router session for any address in its prefixes; its own address as before; others miss', () => {
  const { dp, r1, c } = setup()
  const toLan = udp('203.0.113.5', '10.2.0.77'), toLan2 = udp('203.0.113.5', '10.3.200.1'), toAddr = udp('203.0.113.5', '198.19.0.10')
  const toClient = udp('203.0.113.5', '198.19.0.11'), outside = udp('203.0.113.5', '10.2.1.1')
  dp.handleTunPackets([toLan, toLan2, toAddr, toClient, outside])
  assert.deepEqual(r1.got, [toLan, toLan2, toAddr])
  assert.deepEqual(c.got, [toClient])
  assert.equal(dp.counters.get('no-session'), 1)
  assert.deepEqual(dp.traffic(ip('198.19.0.10')), { inPackets: 0, inBytes: 0, outPackets: 3, outBytes: 3 * toLan.length, inDropped: 0 })
})

test('longest match across sessions: a nested prefix of another session wins inside it', () => {
  // Cannot happen through attach (overlaps are refused), so build it in the route table directly.
  const t = new RouteTable()
  const wide = t.add(ip('198.19.0.20'), sink(), [parsePrefix('10.8.0.0/16')])
  assert.throws(() => t.add(ip('198.19.0.21'), sink(), [parsePrefix('10.8.5.0/24')]), isErr('ERR_ROUTE_IN_USE'))
  assert.equal(t.lookup(ip('10.8.5.1')), wide)
  assert.equal(t.lookup(ip('198.19.0.20')), wide)
  assert.equal(t.lookup(ip('198.19.0.21')), undefined, 'the refused session left nothing behind')
})

test('an assigned host address wins over a prefix containing it (exact first)', () => {
  const dp = new Dataplane({ writeTun: () => {} })
  const r = sink(), h = sink()
  dp.attach('198.19.0.10', r, ['10.9.0.0/16'])
  dp.attach('10.9.0.7', h) // e.g. the pool was moved into the router's network later
  const toHost = udp('203.0.113.5', '10.9.0.7'), toNet = udp('203.0.113.5', '10.9.0.8')
  dp.handleTunPackets([toHost, toNet])
  assert.deepEqual(h.got, [toHost])
  assert.deepEqual(r.got, [toNet])
})

test('anti-spoofing: a router session may source from its address and its prefixes, nothing else', () => {
  const { dp, tun, pr1 } = setup()
  const ok = [udp('198.19.0.10', '203.0.113.5'), udp('10.2.0.5', '203.0.113.5'), udp('10.3.255.255', '203.0.113.5'), udp('10.2.0.0', '203.0.113.5')]
  for (const p of ok) pr1.receive(p)
  assert.deepEqual(tun, ok)
  const spoofed = [udp('10.2.1.5', '203.0.113.5'), udp('198.19.0.11', '203.0.113.5'), udp('10.4.0.1', '203.0.113.5'), udp('203.0.113.9', '203.0.113.5')]
  for (const p of spoofed) pr1.receive(p)
  assert.equal(tun.length, ok.length)
  assert.equal(dp.counters.get('spoofed-source'), spoofed.length)
  assert.equal(pr1.traffic.inDropped, spoofed.length)
  assert.equal(pr1.traffic.inPackets, ok.length)
})

test('anti-spoofing: an ordinary client may not source from a router account\'s network', () => {
  const { dp, tun, pc } = setup()
  pc.receive(udp('10.2.0.5', '203.0.113.5'))
  assert.equal(tun.length, 0)
  assert.equal(dp.counters.get('spoofed-source'), 1)
})

test('anti-spoofing is a reverse-path check: a host address inside the router\'s prefix belongs to its own session', () => {
  const dp = new Dataplane({ writeTun: () => {} })
  const pr = dp.attach('198.19.0.10', sink(), ['10.9.0.0/16'])
  dp.attach('10.9.0.7', sink())
  pr.receive(udp('10.9.0.7', '203.0.113.5'))
  assert.equal(dp.counters.get('spoofed-source'), 1)
  pr.receive(udp('10.9.0.8', '203.0.113.5'))
  assert.equal(dp.counters.get('spoofed-source'), 1)
})

test('session to session: a client reaches the router\'s LAN and the LAN answers, without the TUN', () => {
  const { dp, tun, r1, c, pr1, pc } = setup()
  const req = udp('198.19.0.11', '10.2.0.44'), rep = udp('10.2.0.44', '198.19.0.11')
  pc.receive(req)
  pr1.receive(rep)
  assert.deepEqual(r1.got, [req])
  assert.deepEqual(c.got, [rep])
  assert.equal(tun.length, 0)
  assert.equal(dp.counters.get('client-to-client'), 2)
})

test('session to session honours clientToClient=false for prefixes too', () => {
  const { dp, r1, pc } = setup({ clientToClient: false })
  pc.receive(udp('198.19.0.11', '10.2.0.44'))
  assert.equal(r1.got.length, 0)
  assert.equal(dp.counters.get('client-to-client-denied'), 1)
})

test('attach refuses a prefix another session holds (equal, wider, narrower), all or nothing', () => {
  const { dp } = setup()
  for (const [addr, prefixes] of [['198.19.0.20', ['10.2.0.0/24']], ['198.19.0.21', ['10.0.0.0/8']], ['198.19.0.22', ['10.3.7.0/24']], ['198.19.0.23', ['10.7.0.0/16', '10.2.0.128/25']]] as const) {
    assert.throws(() => dp.attach(addr, sink(), prefixes), isErr('ERR_ROUTE_IN_USE', /routed to the session at 198\.19\.0\.10/), addr)
    // Nothing of the refused attach stays: neither its address nor its other prefixes.
    assert.equal(dp.traffic(ip(addr)), undefined)
  }
  const probe = sink()
  const p = dp.attach('198.19.0.23', probe, ['10.7.0.0/16'])
  dp.handleTunPacket(udp('203.0.113.5', '10.7.0.1'))
  assert.equal(probe.got.length, 1)
  p.detach()
})

test('attach refuses malformed, non-canonical and default prefixes with ERR_DATAPLANE_CONFIG', () => {
  const dp = new Dataplane({ writeTun: () => {} })
  for (const bad of ['10.2.0.1/24', '0.0.0.0/0', 'junk', '10.2.0.0/33']) {
    assert.throws(() => dp.attach('198.19.0.30', sink(), [bad]), isErr('ERR_DATAPLANE_CONFIG'), bad)
  }
  assert.throws(() => dp.attach('198.19.0.30', sink(), ['10.2.0.1/24']), isErr('ERR_DATAPLANE_CONFIG', /host bits set; 10\.2\.0\.0\/24/))
  assert.equal(dp.sessionCount, 0)
})

test('detach removes the prefixes: packets to them miss, and another session can take them', () => {
  const { dp, r1, pr1 } = setup()
  pr1.detach()
  dp.handleTunPacket(udp('203.0.113.5', '10.2.0.77'))
  assert.equal(r1.got.length, 0)
  assert.equal(dp.counters.get('no-session'), 1)
  const r2 = sink()
  dp.attach('198.19.0.12', r2, ['10.2.0.0/24'])
  dp.handleTunPacket(udp('203.0.113.5', '10.2.0.77'))
  assert.equal(r2.got.length, 1)
  // The old port is stale: a late detach or packet from it does not disturb the new holder.
  pr1.detach()
  pr1.receive(udp('10.2.0.5', '203.0.113.5'))
  assert.equal(dp.counters.get('detached'), 1)
  dp.handleTunPacket(udp('203.0.113.5', '10.2.0.78'))
  assert.equal(r2.got.length, 2)
})

test('detach by address removes the prefixes too and returns the final counters', () => {
  const { dp } = setup()
  dp.handleTunPacket(udp('203.0.113.5', '10.3.0.1'))
  const t = dp.detach('198.19.0.10')
  assert.equal(t?.outPackets, 1)
  dp.handleTunPacket(udp('203.0.113.5', '10.3.0.1'))
  assert.equal(dp.counters.get('no-session'), 1)
})

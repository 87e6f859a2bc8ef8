// IpsecTunnels (issue 4 §6) over a fake IKE driver, a fake session registry and manual timers: initiation per
// subnet pair, the session while a child is up, outbound routing by selectors (ESP Next Header 4, RFC 4303
// §3.1.2), the inbound selector check (RFC 4301 §5.2), re-establishment with back-off, peerId, rekey, stop.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { IpsecTunnels, TUNNEL_ATTEMPT_TIMEOUT_MS, type TunnelHost, type TunnelIke } from '../../src/gateway/ipsec-tunnels.js'
import type { IpsecTunnelConfig } from '../../src/config/schema.js'
import type { IpsecChild } from '../../src/transport/ike-driver.js'
import type { ChildSaRequest } from '../../src/ike/v1/endpoint.js'
import type { CarrierSession } from '../../src/gateway/sessions.js'
import type { LinkTimers } from '../../src/gateway/links.js'
import { IdType } from '../../src/ike/v1/constants.js'
import { subnetSelector } from '../../src/gateway/ipsec-tunnels-policy.js'
import { internetChecksum, writeU16 } from '../../src/ip/checksum.js'
import { Counters } from '../../src/lib/counters.js'
import { nullLogger } from '../../src/lib/log.js'

const PEER = '198.18.60.1'
const TUN: IpsecTunnelConfig = { name: 'b', peer: PEER, auth: 'psk', pskFile: '/k', localSubnets: ['10.1.0.0/24'], remoteSubnets: ['10.2.0.0/24', '10.3.0.0/24'], initiate: true }

class ManualTimers implements LinkTimers {
  t = 1000
  q: { at: number; fn: () => void; id: number }[] = []
  private n = 0
  set(fn: () => void, ms: number): unknown { const id = ++this.n; this.q.push({ at: this.t + ms, fn, id }); return id }
  clear(h: unknown): void { this.q = this.q.filter((x) => x.id !== h) }
  now(): number { return this.t }
  advance(ms: number): void {
    const end = this.t + ms
    for (;;) {
      this.q.sort((a, b) => a.at - b.at)
      const next = this.q[0]
      if (!next || next.at > end) break
      this.q.shift()
      this.t = next.at
      next.fn()
    }
    this.t = end
  }
}

function ipv4(src: string, dst: string, payload = 8): Uint8Array {
  const p = new Uint8Array(20 + payload)
  p[0] = 0x45; writeU16(p, 2, p.length); p[8] = 64; p[9] = 1
  p.set(src.split('.').map(Number), 12); p.set(dst.split('.').map(Number), 16)
  writeU16(p, 10, internetChecksum(p, 0, 20))
  return p
}

function setup(cfg: IpsecTunnelConfig = TUN) {
  const timers = new ManualTimers()
  const calls = { connect: [] as { peer: { address: string; port: number }; child: ChildSaRequest; sa: string }[], create: [] as { sa: string; child: ChildSaRequest }[], deleted: [] as string[], sent: [] as { c: IpsecChild; p: Uint8Array; nh: number }[] }
  let n = 0
  let createOk = true
  const ike: TunnelIke = {
    connect: (peer, child) => { const sa = `sa${++n}`; calls.connect.push({ peer: peer as { address: string; port: number }, child, sa }); return sa },
    createChild: (sa, child) => { calls.create.push({ sa, child }); return createOk },
    deleteIkeSa: (sa) => { calls.deleted.push(sa) },
    send: (c, p, nh) => { calls.sent.push({ c, p: new Uint8Array(p), nh }); return true },
  }
  const sessions = new Map<string, { carrier: CarrierSession; info: Parameters<TunnelHost['linkUp']>[1] }>()
  const host = { ip: [] as { id: string; p: Uint8Array }[], closed: [] as { id: string; reason: string }[] }
  const th: TunnelHost = {
    linkUp: (carrier, info) => { sessions.set(carrier.id, { carrier, info }); return undefined },
    ip: (id, p) => host.ip.push({ id, p }),
    closed: (id, reason) => { sessions.delete(id); host.closed.push({ id, reason }) },
  }
  const counters = new Counters()
  let failures = 0
  const backoff = () => ({ up: () => { failures = 0 }, failed: () => 1000 * 2 ** failures++, get attempts() { return failures } })
  const tunnels = new IpsecTunnels([cfg], { ike, host: th, log: nullLogger, counters, backoff, timers })
  return { tunnels, timers, calls, sessions, host, counters, setCreateOk: (v: boolean) => { createOk = v } }
}

let spi = 0x1000
function child(sa: string, local: string, remote: string, over: Partial<IpsecChild> = {}): IpsecChild {
  const s = ++spi
  return {
    ikeSa: sa, peerId: { idType: IdType.Ipv4Addr, data: Uint8Array.of(198, 18, 60, 1) }, mode: 'tunnel',
    selectors: { local: subnetSelector(local), remote: subnetSelector(remote) }, udpEncapsulated: false, suite: 'AES-CBC-256/HMAC-SHA1-96',
    handle: { inboundSpi: s, outboundSpi: s + 0x10000, peer: { address: PEER }, removed: false }, ...over,
  }
}
const ikeUp = (sa: string, over: object = {}) => ({ type: 'ikeUp' as const, sa, peer: { address: PEER, port: 500 }, peerId: { idType: IdType.Ipv4Addr, data: Uint8Array.of(198, 18, 60, 1) }, natT: undefined, ...over })

test('an initiating tunnel connects to UDP 500 with tunnel mode and the first subnet pair; a responder-only one waits', () => {
  const s = setup()
  s.tunnels.start()
  assert.equal(s.calls.connect.length, 0, 'started from a timer, not inside start()')
  s.timers.advance(0)
  assert.equal(s.calls.connect.length, 1)
  const c = s.calls.connect[0]!
  assert.deepEqual(c.peer, { address: PEER, port: 500 })
  assert.equal(c.child.mode, 'tunnel')
  assert.deepEqual(c.child.selectors, { local: subnetSelector('10.1.0.0/24'), remote: subnetSelector('10.2.0.0/24') })
  // RFC 2407 §4.6.2.4: ID_IPV4_ADDR_SUBNET = address then mask.
  assert.deepEqual([...c.child.selectors!.remote.data], [10, 2, 0, 0, 255, 255, 255, 0])
  assert.equal(c.child.selectors!.remote.idType, IdType.Ipv4AddrSubnet)

  const r = setup({ ...TUN, initiate: false })
  r.tunnels.start(); r.timers.advance(60_000)
  assert.equal(r.calls.connect.length, 0)
})

test('main mode up: the other pairs get their quick modes on the same ISAKMP SA', () => {
  const s = setup()
  s.tunnels.start(); s.timers.advance(0)
  s.tunnels.ikeEvent(ikeUp('sa1'))
  assert.deepEqual(s.calls.create.map((x) => [x.sa, x.child.mode, [...x.child.selectors!.remote.data].join('.')]), [['sa1', 'tunnel', '10.3.0.0.255.255.255.0']])
})

test('the first child up registers one session with the remote subnets (kernel routes held by the gateway); the last down ends it', () => {
  const s = setup()
  s.tunnels.start(); s.timers.advance(0); s.tunnels.ikeEvent(ikeUp('sa1'))
  const a = child('sa1', '10.1.0.0/24', '10.2.0.0/24'), b = child('sa1', '10.1.0.0/24', '10.3.0.0/24')
  assert.equal(s.tunnels.childUp(a), true)
  assert.equal(s.sessions.size, 1)
  const [id, sess] = [...s.sessions.entries()][0]!
  assert.deepEqual(sess.info, { user: 'tunnel b', peerAddress: '10.2.0.0', routes: ['10.2.0.0/24', '10.3.0.0/24'], kernelRoutes: false })
  assert.equal(sess.carrier.protocol, 'ipsec-tunnel')
  assert.equal(s.tunnels.childUp(b), true)
  assert.equal(s.sessions.size, 1, 'one session per tunnel, not per child')
  s.tunnels.childDown(a, 'deleted by the peer')
  assert.equal(s.sessions.size, 1)
  s.tunnels.childDown(b, 'deleted by the peer')
  assert.equal(s.sessions.size, 0)
  assert.deepEqual(s.host.closed, [{ id, reason: 'peer-closed' }])
})

test('outbound: each packet goes to the child whose selectors hold source and destination, as Next Header 4; others are counted drops', () => {
  const s = setup()
  s.tunnels.start(); s.timers.advance(0)
  const a = child('sa1', '10.1.0.0/24', '10.2.0.0/24'), b = child('sa1', '10.1.0.0/24', '10.3.0.0/24')
  s.tunnels.childUp(a); s.tunnels.childUp(b)
  const carrier = [...s.sessions.values()][0]!.carrier
  const p1 = ipv4('10.1.0.5', '10.2.0.9'), p2 = ipv4('10.1.0.5', '10.3.0.1')
  carrier.sendIp(p1); carrier.sendIp(p2)
  assert.deepEqual(s.calls.sent.map((x) => [x.c === a ? 'a' : x.c === b ? 'b' : '?', x.nh]), [['a', 4], ['b', 4]])
  assert.deepEqual(s.calls.sent[0]!.p, p1)
  // The gateway's own TUN address is not in the local subnets: no SA was agreed for it.
  carrier.sendIp(ipv4('198.19.0.1', '10.2.0.9'))
  carrier.sendIp(new Uint8Array(10))
  assert.equal(s.calls.sent.length, 2)
  assert.equal(s.counters.snapshot()['ipsec-tunnel.drop:no-child-for-selectors'], 1)
  assert.equal(s.counters.snapshot()['ipsec-tunnel.b.drop:short'], 1)
})

test('outbound uses the newest child of a pair (after a rekey or when both sides initiated)', () => {
  const s = setup()
  const old = child('sa1', '10.1.0.0/24', '10.2.0.0/24'), fresh = child('sa2', '10.1.0.0/24', '10.2.0.0/24')
  s.tunnels.childUp(old); s.tunnels.childUp(fresh)
  const carrier = [...s.sessions.values()][0]!.carrier
  carrier.sendIp(ipv4('10.1.0.5', '10.2.0.9'))
  assert.equal(s.calls.sent[0]!.c, fresh)
  s.tunnels.childDown(old, 'rekeyed')
  assert.equal(s.sessions.size, 1, 'a rekey keeps the session')
})

test('inbound: an inner IPv4 packet inside the child selectors goes to the session; anything else is dropped with a reason', () => {
  const s = setup()
  const a = child('sa1', '10.1.0.0/24', '10.2.0.0/24')
  s.tunnels.childUp(a)
  const id = [...s.sessions.keys()][0]!
  const good = ipv4('10.2.0.9', '10.1.0.5')
  // Traffic Flow Confidentiality padding after Total Length is cut (RFC 4303 §2.7).
  const padded = new Uint8Array(good.length + 4); padded.set(good)
  assert.equal(s.tunnels.payload(a, 4, padded), true)
  assert.deepEqual(s.host.ip.map((x) => [x.id, x.p.length]), [[id, good.length]])
  s.tunnels.payload(a, 4, ipv4('10.3.0.9', '10.1.0.5')) // source outside the child's remote selector
  s.tunnels.payload(a, 4, ipv4('10.2.0.9', '10.9.0.5')) // destination outside the local selector
  s.tunnels.payload(a, 17, good) // transport-mode UDP on a tunnel SA
  const bad = new Uint8Array(good); bad[10]! ^= 1 // header checksum
  s.tunnels.payload(a, 4, bad)
  assert.equal(s.host.ip.length, 1)
  const c = s.counters.snapshot()
  assert.equal(c['ipsec-tunnel.drop:outside-selectors'], 2)
  assert.equal(c['ipsec-tunnel.drop:not-ipv4'], 1)
  assert.equal(c['ipsec-tunnel.drop:ipv4-bad-checksum'], 1)
})

test('children that are not the tunnel\'s are left to L2TP: transport mode, or another peer', () => {
  const s = setup()
  assert.equal(s.tunnels.childUp(child('sa9', '10.1.0.0/24', '10.2.0.0/24', { mode: 'transport' })), false)
  const other = child('sa9', '10.1.0.0/24', '10.2.0.0/24', { handle: { inboundSpi: 77777, outboundSpi: 1, peer: { address: '198.18.99.9' }, removed: false } })
  assert.equal(s.tunnels.childUp(other), false)
  assert.equal(s.tunnels.payload(other, 4, ipv4('10.2.0.9', '10.1.0.5')), false)
  assert.equal(s.tunnels.childDown(other, 'x'), false)
  assert.equal(s.sessions.size, 0)
})

test('a tunnel child without subnet selectors is not used', () => {
  const s = setup()
  assert.equal(s.tunnels.childUp(child('sa1', '10.1.0.0/24', '10.2.0.0/24', { selectors: undefined })), true)
  assert.equal(s.sessions.size, 0)
  assert.equal(s.counters.snapshot()['ipsec-tunnel.drop:child-without-subnets'], 1)
})

test('re-established after a drop: quick modes on a live ISAKMP SA, else a new main mode, with back-off', () => {
  const s = setup({ ...TUN, remoteSubnets: ['10.2.0.0/24'] })
  s.tunnels.start(); s.timers.advance(0)
  s.tunnels.ikeEvent(ikeUp('sa1'))
  const a = child('sa1', '10.1.0.0/24', '10.2.0.0/24')
  s.tunnels.childUp(a)
  // The child expires, the ISAKMP SA lives: one quick mode on it after the first back-off delay.
  s.tunnels.childDown(a, 'expired')
  assert.equal(s.sessions.size, 0)
  s.timers.advance(999); assert.equal(s.calls.create.length, 0)
  s.timers.advance(1); assert.deepEqual(s.calls.create.map((x) => x.sa), ['sa1'])
  // Then the peer dies (DPD): the ISAKMP SA closes; the next attempt is a main mode, after a longer delay.
  s.tunnels.ikeEvent({ type: 'closed', sa: 'sa1', peer: { address: PEER, port: 500 }, reason: 'dead peer' })
  s.timers.advance(1999); assert.equal(s.calls.connect.length, 1)
  s.timers.advance(1); assert.equal(s.calls.connect.length, 2)
  // That main mode fails (no answer): the next one after 4 s.
  s.tunnels.ikeEvent({ type: 'closed', sa: 'sa2', peer: { address: PEER, port: 500 }, reason: 'timeout: no answer to main mode 1' })
  assert.equal(s.counters.snapshot()['ipsec-tunnel.connect-failed'], 1)
  s.timers.advance(4000); assert.equal(s.calls.connect.length, 3)
})

test('an initiation that gets no event at all is abandoned after TUNNEL_ATTEMPT_TIMEOUT_MS and tried again', () => {
  const s = setup({ ...TUN, remoteSubnets: ['10.2.0.0/24'] })
  s.tunnels.start(); s.timers.advance(0)
  s.timers.advance(TUNNEL_ATTEMPT_TIMEOUT_MS)
  assert.deepEqual(s.calls.deleted, ['sa1'])
  assert.equal(s.calls.connect.length, 2)
})

test('a child that came up from the peer\'s side stops our own attempts (both sides may initiate)', () => {
  const s = setup({ ...TUN, remoteSubnets: ['10.2.0.0/24'] })
  s.tunnels.start()
  s.tunnels.childUp(child('peer-sa', '10.1.0.0/24', '10.2.0.0/24'))
  s.timers.advance(0)
  assert.equal(s.calls.connect.length, 0)
  assert.equal(s.sessions.size, 1)
})

test('both sides initiating: when the peer\'s child covers every pair first, our half-open main mode is dropped', () => {
  const s = setup({ ...TUN, remoteSubnets: ['10.2.0.0/24'] })
  s.tunnels.start(); s.timers.advance(0)
  assert.equal(s.calls.connect.length, 1)
  s.tunnels.childUp(child('peer-sa', '10.1.0.0/24', '10.2.0.0/24'))
  assert.deepEqual(s.calls.deleted, ['sa1'])
  s.tunnels.ikeEvent({ type: 'closed', sa: 'sa1', peer: { address: PEER, port: 500 }, reason: 'the peer brought the tunnel up first' })
  s.timers.advance(120_000)
  assert.equal(s.calls.connect.length, 1, 'no redial: the tunnel is up')
  assert.equal(s.counters.snapshot()['ipsec-tunnel.connect-failed'], undefined)
})

test('a quick mode refused by the peer is retried with back-off', () => {
  const s = setup({ ...TUN, remoteSubnets: ['10.2.0.0/24'] })
  s.tunnels.start(); s.timers.advance(0); s.tunnels.ikeEvent(ikeUp('sa1'))
  s.tunnels.ikeEvent({ type: 'childSaFailed', sa: 'sa1', reason: 'the peer refused: InvalidIdInformation' })
  s.timers.advance(1000)
  assert.deepEqual(s.calls.create.map((x) => x.sa), ['sa1'])
})

test('peerId: an ISAKMP SA authenticated as someone else is deleted and not used', () => {
  const s = setup({ ...TUN, peerId: 'gw-b.example.org' })
  s.tunnels.start(); s.timers.advance(0)
  s.tunnels.ikeEvent(ikeUp('sa1', { peerId: { idType: IdType.Fqdn, data: new TextEncoder().encode('evil.example.org') } }))
  assert.deepEqual(s.calls.deleted, ['sa1'])
  assert.equal(s.calls.create.length, 0)
  assert.equal(s.counters.snapshot()['ipsec-tunnel.refused:peer-id'], 1)
  const ok = setup({ ...TUN, peerId: 'GW-B.example.org' })
  ok.tunnels.start(); ok.timers.advance(0)
  ok.tunnels.ikeEvent(ikeUp('sa1', { peerId: { idType: IdType.Fqdn, data: new TextEncoder().encode('gw-b.example.org') } }))
  assert.deepEqual(ok.calls.deleted, [])
})

test('responder policy: selectors inside the tunnel\'s subnets only, refusals counted', () => {
  const s = setup()
  assert.equal(s.tunnels.acceptSelectors(PEER, subnetSelector('10.1.0.0/24'), subnetSelector('10.3.0.0/24')), true)
  assert.equal(s.tunnels.acceptSelectors(PEER, subnetSelector('10.1.0.0/16'), subnetSelector('10.3.0.0/24')), false)
  assert.equal(s.tunnels.acceptSelectors('198.18.99.9', subnetSelector('10.1.0.0/24'), subnetSelector('10.3.0.0/24')), false)
  assert.equal(s.counters.snapshot()['ipsec-tunnel.refused:selectors'], 1)
  assert.equal(s.tunnels.tunnelOf(PEER)?.name, 'b')
  assert.equal(s.tunnels.tunnelOf('198.18.99.9'), undefined)
})

test('the session ended from outside (disconnect) deletes the ISAKMP SAs; stop() ends the session and every attempt', () => {
  const s = setup({ ...TUN, remoteSubnets: ['10.2.0.0/24'] })
  s.tunnels.start(); s.timers.advance(0); s.tunnels.ikeEvent(ikeUp('sa1'))
  s.tunnels.childUp(child('sa1', '10.1.0.0/24', '10.2.0.0/24'))
  const carrier = [...s.sessions.values()][0]!.carrier
  carrier.close('admin', 'disconnected by the administrator')
  assert.deepEqual(s.calls.deleted, ['sa1'])
  assert.equal(s.host.closed.length, 1)
  const t = setup({ ...TUN, remoteSubnets: ['10.2.0.0/24'] })
  t.tunnels.start(); t.timers.advance(0)
  t.tunnels.childUp(child('sa1', '10.1.0.0/24', '10.2.0.0/24'))
  t.tunnels.stop()
  assert.equal(t.sessions.size, 0)
  assert.equal(t.timers.q.length, 0)
  t.tunnels.ikeEvent({ type: 'closed', sa: 'sa1', peer: { address: PEER, port: 500 }, reason: 'shutting down' })
  t.timers.advance(120_000)
  assert.equal(t.calls.connect.length, 1)
})

test('one drop (the child down, then its ISAKMP SA closed) counts as one failure for the back-off', () => {
  const s = setup({ ...TUN, remoteSubnets: ['10.2.0.0/24'] })
  s.tunnels.start(); s.timers.advance(0); s.tunnels.ikeEvent(ikeUp('sa1'))
  const a = child('sa1', '10.1.0.0/24', '10.2.0.0/24')
  s.tunnels.childUp(a)
  s.tunnels.childDown(a, 'the peer stopped answering dead peer detection (RFC 3706)')
  s.tunnels.ikeEvent({ type: 'closed', sa: 'sa1', peer: { address: PEER, port: 500 }, reason: 'the peer stopped answering dead peer detection (RFC 3706)' })
  s.timers.advance(1000)
  assert.equal(s.calls.connect.length, 2, 'redialled after the first back-off delay, not the second')
})

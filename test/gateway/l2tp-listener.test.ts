// Plain L2TP over loopback UDP (RFC 2661 LNS + LAC, PPP with MPPE-128): the gateway's listener
// (gateway/l2tp-listener.ts) and the client's dial (client/l2tp-dial.ts) against each other, with a
// real SessionRegistry and data plane but no TUN: login, IP both ways, records, refusals, shutdown.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { listenL2tp, L2TP_MPPE_POLICY, PLAIN_L2TP_WARNING } from '../../src/gateway/l2tp-listener.js'
import { dialL2tp, type L2tpDial } from '../../src/client/l2tp-dial.js'
import { SessionRegistry, type AccountingSink } from '../../src/gateway/sessions.js'
import { AddressPool } from '../../src/ip/pool.js'
import { Dataplane } from '../../src/dataplane/dataplane.js'
import { Counters } from '../../src/lib/counters.js'
import { nullLogger } from '../../src/lib/log.js'
import type { PppEvent } from '../../src/ppp/types.js'
import { PASSWORD, verify } from '../sstp/harness.js'

/** A 28-byte IPv4/UDP-ish packet with a valid header checksum (RFC 791 §3.1) and `mark` in its last octet. */
function ipPacket(src: string, dst: string, mark: number): Uint8Array {
  const p = new Uint8Array(28)
  p[0] = 0x45; p[3] = 28; p[8] = 64; p[9] = 17
  p.set(src.split('.').map(Number), 12); p.set(dst.split('.').map(Number), 16)
  let sum = 0
  for (let i = 0; i < 20; i += 2) sum += (p[i]! << 8) | p[i + 1]!
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  p[10] = (~sum >> 8) & 0xff; p[11] = ~sum & 0xff
  p[27] = mark
  return p
}

async function gateway(secret?: Uint8Array) {
  const records: { kind: string; rec: Record<string, unknown> }[] = []
  const accounting: AccountingSink = {
    start: (rec) => records.push({ kind: 'start', rec }),
    end: (id, rec) => records.push({ kind: 'end', rec: { id, ...rec } }),
    failedAuth: (rec) => records.push({ kind: 'failed', rec }),
  }
  const pool = new AddressPool('198.19.0.0/24')
  pool.allocate()
  const toTun: Uint8Array[] = []
  const dataplane = new Dataplane({ writeTun: (p) => toTun.push(p.slice()) })
  const registry = new SessionRegistry({ aaa: { verify }, accounting, pool, routes: dataplane, log: nullLogger })
  const counters = new Counters()
  const l2tp = await listenL2tp({
    listen: '127.0.0.1', port: 0, mppe: L2TP_MPPE_POLICY, plain: true, registry, log: nullLogger, counters, ...(secret ? { secret } : {}),
    ppp: { authMethods: ['mschapv2'], authName: 'gatehouse', localAddress: '198.19.0.1', mru: 1454, echoIntervalMs: 1000, echoFailures: 3 },
  })
  return { records, toTun, dataplane, registry, counters, l2tp }
}

interface Client { dial: L2tpDial; up: Promise<Extract<PppEvent, { type: 'up' }>>; closed: Promise<{ reason: string; message: string }>; fromGateway: Uint8Array[]; progress: string[] }

async function client(port: number, password = PASSWORD, secret?: Uint8Array): Promise<Client> {
  const fromGateway: Uint8Array[] = []
  const progress: string[] = []
  let upR!: (e: Extract<PppEvent, { type: 'up' }>) => void
  let closedR!: (c: { reason: string; message: string }) => void
  const up = new Promise<Extract<PppEvent, { type: 'up' }>>((r) => { upR = r })
  const closed = new Promise<{ reason: string; message: string }>((r) => { closedR = r })
  const dial = await dialL2tp({
    host: '127.0.0.1', port, user: 'alice', password, mru: 1454, progress: (l) => progress.push(l),
    onUp: (ev) => upR(ev), onIp: (p) => fromGateway.push(p.slice()), onClosed: (reason, message) => closedR({ reason, message }),
    echoIntervalMs: 1000, echoFailures: 3, ...(secret ? { secret } : {}),
  })
  return { dial, up, closed, fromGateway, progress }
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`timed out: ${what}`)), ms).unref())])

test('LAC dial <-> LNS listener over loopback: MS-CHAPv2 + MPPE, IP both ways, a record per session with the reason', async () => {
  const g = await gateway()
  let c: Client | undefined
  try {
    c = await client(g.l2tp.local.port)
    const up = await within(c.up, 5000, 'PPP up')
    assert.equal(up.peerAddress, '198.19.0.1')
    assert.match(up.localAddress, /^198\.19\.0\.\d+$/)
    assert.ok(c.progress.some((l) => /L2TP tunnel up \(Gatehouse, gatehouse\)/.test(l)), c.progress.join('\n'))
    assert.ok(c.progress.some((l) => /PPP up with MPPE/.test(l)))
    const live = g.registry.list()
    assert.equal(live.length, 1)
    assert.equal(live[0]!.protocol, 'l2tp')
    assert.match(live[0]!.peer, /^127\.0\.0\.1:\d+$/)

    // The gateway's IPCP may open a moment after the client's: send until one arrives.
    await within((async () => { while (g.toTun.length === 0) { c!.dial.sendIp(ipPacket(up.localAddress, '10.9.9.9', 7)); await new Promise((r) => setTimeout(r, 50)) } })(), 3000, 'packet at the gateway TUN')
    assert.equal(g.toTun[0]![27], 7)
    g.dataplane.handleTunPackets([ipPacket('10.9.9.9', up.localAddress, 9)])
    await within((async () => { while (c!.fromGateway.length === 0) await new Promise((r) => setTimeout(r, 10)) })(), 3000, 'packet at the client')
    assert.equal(c.fromGateway[0]![27], 9)

    c.dial.close('admin', 'user disconnected')
    const closed = await within(c.closed, 5000, 'client closed')
    assert.equal(closed.reason, 'admin')
    await within((async () => { while (g.registry.size > 0) await new Promise((r) => setTimeout(r, 10)) })(), 5000, 'session gone at the gateway')
    const end = g.records.find((r) => r.kind === 'end')
    assert.ok(end, JSON.stringify(g.records))
    assert.equal(end.rec.assignedAddress, up.localAddress)
    assert.ok((end.rec.bytesIn as number) >= 28 && (end.rec.bytesOut as number) >= 28, JSON.stringify(end.rec))
    assert.match(String(end.rec.reason), /peer-terminated|peer-cleared|control-closed/)
    assert.equal(g.records.find((r) => r.kind === 'start')!.rec.protocol, 'l2tp')
  } finally { c?.dial.close('admin', 'test over'); await g.l2tp.close() }
})

test('a wrong password: the client hears auth-failed, the gateway writes a failed-auth record for protocol l2tp', async () => {
  const g = await gateway()
  try {
    const c = await client(g.l2tp.local.port, 'not-the-password')
    const closed = await within(c.closed, 8000, 'client closed')
    assert.equal(closed.reason, 'auth-failed', JSON.stringify(closed))
    const failed = g.records.find((r) => r.kind === 'failed')
    assert.ok(failed, JSON.stringify(g.records))
    assert.equal(failed.rec.protocol, 'l2tp')
    assert.equal(failed.rec.user, 'alice')
    await within((async () => { while (g.registry.size > 0) await new Promise((r) => setTimeout(r, 10)) })(), 5000, 'no session left')
  } finally { await g.l2tp.close() }
})

test('gateway shutdown: registry closeAll ends the live call (LCP Terminate), the client hears it, records say admin', async () => {
  const g = await gateway()
  const c = await client(g.l2tp.local.port)
  await within(c.up, 5000, 'PPP up')
  await g.registry.closeAll('admin', 'gateway shutting down', 3000)
  g.registry.forceCloseRemaining('gateway-shutdown', Date.now())
  await g.l2tp.close()
  const closed = await within(c.closed, 5000, 'client closed')
  assert.match(closed.reason, /peer-terminated|peer-cleared|tunnel-closed/, JSON.stringify(closed))
  const end = g.records.find((r) => r.kind === 'end')
  assert.equal(end?.rec.reason, 'admin')
})

test('a peer that is not an LAC (garbage datagrams) gets nothing and is counted; the warning names the weakness', async () => {
  const g = await gateway()
  try {
    const { UdpSocket } = await import('../../src/transport/udp.js')
    const s = await UdpSocket.bind({ address: '127.0.0.1', port: 0, what: 'test' })
    const got: Uint8Array[] = []
    s.onDatagram((d) => got.push(d.slice()))
    s.send(g.l2tp.local, Uint8Array.of(0xc8, 0x02, 0x00)) // truncated header (§3.1 needs 6 octets at least)
    s.send(g.l2tp.local, Uint8Array.of(0x00, 0x02, 0x12, 0x34, 0x00, 0x01, 0xff, 0x03)) // data for an unknown tunnel
    await new Promise((r) => setTimeout(r, 200))
    const k = g.l2tp.counters()
    assert.equal(k['l2tp.listener.malformed:l2tp.header'], 1, JSON.stringify(k))
    assert.equal(k['l2tp.listener.rx-unknown-tunnel'], 1, JSON.stringify(k))
    assert.equal(got.length, 0)
    await s.close()
  } finally { await g.l2tp.close() }
  assert.match(PLAIN_L2TP_WARNING, /MPPE/)
  assert.match(PLAIN_L2TP_WARNING, /user names and the MS-CHAPv2 exchange/)
  assert.match(PLAIN_L2TP_WARNING, /SSTP/)
})

test('l2tp.secretFile (RFC 2661 §5.1.1 tunnel authentication): a LAC with the secret comes up; one without it is refused before any call', async () => {
  const secret = new TextEncoder().encode('tunnel-secret-for-l2tp')
  const g = await gateway(secret)
  try {
    const good = await client(g.l2tp.local.port, PASSWORD, secret)
    const up = await within(good.up, 5000, 'PPP up with the tunnel secret')
    assert.match(up.localAddress, /^198\.19\.0\.\d+$/)
    good.dial.close('admin', 'done')
    await within(good.closed, 5000, 'closed')
    const none = await client(g.l2tp.local.port)
    const refused = await within(none.closed, 10000, 'refused without the secret')
    assert.deepEqual(refused, { reason: 'tunnel-closed', message: 'tunnel-authentication-failed: tunnel authentication failed' })
    const wrong = await client(g.l2tp.local.port, PASSWORD, new TextEncoder().encode('not-the-tunnel-secret'))
    const wrongClosed = await within(wrong.closed, 10000, 'refused with a wrong secret')
    assert.deepEqual(wrongClosed, refused)
    assert.equal(g.registry.size, 0)
    assert.equal(g.records.filter((r) => r.kind === 'start').length, 1, 'only the client with the secret reached PPP')
  } finally { await g.l2tp.close() }
})

// End to end, PPTP (RFC 2637 control on TCP 1723 + enhanced GRE, MPPE-128) in network namespaces with
// real TUN devices: `gatehouse connect pptp://` against `gatehouse serve` (issue 3, "What must hold").
// 198.18.60.0/24 is the outer network (a bridge in the gateway namespace), 198.18.61.0/24 a LAN behind
// the gateway, 198.18.62.0/24 a private network behind a NAT namespace, 198.19.60.0/24 the client pool.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NetnsLab, ip, removeLeftoverNamespaces, stopChild, waitForLine } from '../../src/transport/netns.js'
import { addressOf, assertAllPing, assertClientEndsWithRecord, assertOnlySession, assertTransferBothWays, droppedRecord, assertSigtermEndsSession, assertWrongPasswordRefused, gatewayNs, natBehind, silence, startGateway, transfer, watchExit, type RunningGateway } from '../helpers/e2e-lab.js'
import { BIN, bridgedClientNs, captureGre, gatewayStatus, iptablesCounts, initGateway, liveSessions, pingOk, sendRawGre, sessionHistory, tcpProbe, until } from '../helpers/e2e-gateway.js'

const PASSWORD = 'Correct-Horse-42-battery'
const GW = '198.18.60.1'
const POOL = '198.19.60.0/24'
const GW_TUN = '198.19.60.1'
const LAN_HOST = '198.18.61.2'
const KEEPALIVE_S = 2
const KEEPALIVE_FAILURES = 3

const lab = new NetnsLab(`ghp${process.pid % 10000}_`)
let srv = ''
let lanNs = ''
let dir = ''
let gwDir = ''
let gw: RunningGateway | undefined
let nextClient = 0
/** A session still up when the gateway is stopped: its record must be written by the SIGTERM path. */
let lastClient: { c: ChildProcess; address: string } | undefined

/** A client namespace on the gateway's bridge with outer address 198.18.60.(10+n). */
function clientNs(): { ns: string; outer: string } {
  return bridgedClientNs(lab, srv, nextClient++, '198.18.60')
}

function connect(ns: string, password = PASSWORD, extra: string[] = ['--no-dns']): ChildProcess {
  const c = lab.spawn(ns, process.execPath, [BIN, 'connect', `pptp://${GW}`, '--user', 'alice', '--split', `${POOL},198.18.61.0/24`, ...extra])
  c.stdin!.end(`${password}\n`)
  return c
}

const connected = (ns: string, extra?: string[]): Promise<{ c: ChildProcess; address: string }> => addressOf(connect(ns, PASSWORD, extra), () => gw?.log() ?? '')

before(async () => {
  removeLeftoverNamespaces()
  srv = gatewayNs(lab, GW)
  // A network behind the gateway with a host that routes the pool back (forwarding, not NAT).
  lanNs = lab.ns('lan')
  lab.link(srv, 'lan0', '198.18.61.1/24', lanNs, 'eth0', `${LAN_HOST}/24`)
  ip('-n', lanNs, 'route', 'add', POOL, 'via', '198.18.61.1')
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-pptp-'))
  gwDir = join(dir, 'gw')
  initGateway(gwDir, { listen: GW, pool: POOL, dns: '198.19.60.1,198.19.60.2', protocols: 'sstp,pptp', keepaliveSeconds: KEEPALIVE_S, keepaliveFailures: KEEPALIVE_FAILURES }, [['alice', PASSWORD]])
  gw = await startGateway(lab, srv, gwDir)
  assert.match(gw.log(), /PPTP is enabled\. It is weak/, 'the gateway says once, at start, why PPTP is weak')
})

after(async () => {
  if (gw && gw.server.exitCode === null) await stopChild(gw.server, 8000)
  await lab.cleanup()
  rmSync(dir, { recursive: true, force: true })
})

test('a PPTP client gets an address and DNS, pings both ways and across the gateway, and moves 50 MB each way intact', async () => {
  const { ns } = clientNs()
  const { c, address } = await connected(ns, [])
  assert.match(address, /^198\.19\.60\.\d+$/)
  assert.ok(pingOk(lab, ns, GW_TUN), 'client pings the gateway tunnel address')
  assert.ok(pingOk(lab, srv, address), 'gateway pings the client')
  assert.ok(pingOk(lab, ns, LAN_HOST), 'client reaches a host on the network behind the gateway (forwarding)')
  assert.ok(pingOk(lab, lanNs, address), 'that host reaches the client back')
  assert.match(lab.exec(ns, 'cat', ['/etc/resolv.conf']), /nameserver 198\.19\.60\.1\nnameserver 198\.19\.60\.2/, 'pushed DNS (RFC 1877) applied')

  const size = 50 * 1024 * 1024
  await assertTransferBothWays(lab, ns, srv, GW_TUN, address, size)

  await assertOnlySession(gwDir, address, 'pptp')

  await assertClientEndsWithRecord(c, gwDir, address, 'pptp', size)
})

test('a wrong password is refused with a clear message and leaves a failed-auth record', async () => {
  const { ns, outer } = clientNs()
  await assertWrongPasswordRefused(connect(ns, 'Wrong-Password-123'), gwDir, outer, 'pptp')
})

test('20 clients at once get distinct addresses and all ping; 3 more behind one NAT all work too', async () => {
  // Three clients behind one masquerading router (198.18.60.250). The router needs Linux's PPTP
  // conntrack/NAT helper (nf_conntrack_pptp + nf_nat_pptp, assigned explicitly as modern kernels
  // require): it rewrites the PNS Call IDs so replies find their client. Our side keys GRE on
  // (peer address, Call ID) with gateway-unique Call IDs, so one outer address for three calls is fine.
  const behindNat = natBehind(lab, srv, {
    outer: '198.18.60.250', inner: '198.18.62', outerNet: '198.18.60.0/24', clients: 3,
    before: [['-t', 'raw', '-A', 'PREROUTING', '-p', 'tcp', '--dport', '1723', '-j', 'CT', '--helper', 'pptp']],
  })

  const spaces = Array.from({ length: 20 }, () => clientNs().ns)
  const all = [...spaces, ...behindNat]
  const procs = all.map((ns) => ({ ns, c: connect(ns) }))
  const clients: { ns: string; c: ChildProcess; address: string }[] = []
  for (const p of procs) {
    const [, address] = await waitForLine(p.c, /^address (\S+)/, 60000)
    clients.push({ ...p, address: address! })
  }
  assert.equal(new Set(clients.map((c) => c.address)).size, 23, 'addresses are distinct')
  const live = await liveSessions(gwDir)
  assert.equal(live.length, 23)
  assert.equal(live.filter((s) => s.peer.startsWith('198.18.60.250:')).length, 3, 'three sessions share the NAT\'s outer address')
  await assertAllPing(lab, clients, GW_TUN)
  assert.ok(pingOk(lab, clients[0]!.ns, clients[19]!.address), 'client 0 pings client 19 through the gateway')
  assert.ok(pingOk(lab, clients[20]!.ns, clients[22]!.address), 'two clients behind the NAT reach each other through the gateway')
  await Promise.all(clients.map((c) => stopChild(c.c, 5000, 'SIGINT')))
  await until('all sessions gone', async () => (await liveSessions(gwDir)).length === 0, 10000)
})

test('a killed client is cleaned up at once (its TCP ends); a silent one is dropped by the LCP keepalive', async () => {
  const a = clientNs()
  const b = clientNs()
  const [ca, cb] = await Promise.all([connected(a.ns), connected(b.ns)])
  // kill -9: the client's kernel closes its control connection, so the gateway need not wait for a keepalive.
  const tKill = Date.now()
  ca.c.kill('SIGKILL')
  const { rec: recA, goneAt: aGone } = await droppedRecord(gwDir, ca.address, 'the killed client to disappear', KEEPALIVE_S * 1000)
  const killMs = aGone - tKill
  assert.match(recA.reason ?? '', /control-closed/, `record names the closed control connection (${recA.reason}, after ${killMs} ms)`)

  // Silent: every packet dropped in the client namespace, TCP and GRE alike. This kernel has no
  // sch_netem, so a packet filter stands in for a dead link. Only the echo can notice.
  const t0 = Date.now()
  silence(lab, b.ns)
  const { rec: recB, goneAt: bGone } = await droppedRecord(gwDir, cb.address, 'the silent client to be dropped', (KEEPALIVE_S * (KEEPALIVE_FAILURES + 1) + 6) * 1000)
  const elapsed = bGone - t0
  assert.equal(recB.reason, 'echo-timeout', `reason names the keepalive (${recB.reason}, after ${elapsed} ms)`)
  assert.ok(elapsed >= KEEPALIVE_S * (KEEPALIVE_FAILURES - 1) * 1000, `not before the echoes could fail (${elapsed} ms)`)
  cb.c.kill('SIGKILL')
})

test('3% GRE loss each way still carries a 16 MB transfer intact', async () => {
  const { ns } = clientNs()
  const { c, address } = await connected(ns)
  // Not tc netem (this kernel has no sch_netem): the statistic match drops 3% of GRE (IP protocol 47)
  // at random in both directions; TCP inside the tunnel must retransmit what is lost.
  for (const chain of ['INPUT', 'OUTPUT']) lab.exec(ns, 'iptables', ['-A', chain, '-p', '47', '-m', 'statistic', '--mode', 'random', '--probability', '0.03', '-j', 'DROP'])
  const size = 16 * 1024 * 1024
  const up = await transfer(lab, ns, srv, GW_TUN, size)
  assert.equal(up.gotBytes, size)
  assert.equal(up.got, up.sent, 'client -> gateway intact over a lossy path')
  const down = await transfer(lab, srv, ns, address, size / 2)
  assert.equal(down.got, down.sent, 'gateway -> client intact over a lossy path')
  const [dropIn] = iptablesCounts(lab, ns, 'INPUT')
  const [dropOut] = iptablesCounts(lab, ns, 'OUTPUT')
  assert.ok((dropIn ?? 0) > 50 && (dropOut ?? 0) > 50, `packets really were lost both ways (in ${dropIn}, out ${dropOut})`)
  const session = (await liveSessions(gwDir)).find((s) => s.address === address)
  assert.ok(session, 'the session survived the loss')
  // The gateway saw the gaps in the GRE sequence (RFC 2637 §4.3) and shows them per session.
  assert.ok((session.counters?.['gre.lost'] ?? 0) > 0, `per-session GRE loss counted (${JSON.stringify(session.counters)})`)
  await stopChild(c, 5000, 'SIGINT')
})

test('hostile GRE and control bytes against the live gateway are dropped, counted, and disturb no session', async () => {
  const { ns, outer } = clientNs()
  const live = await connected(ns)
  const before = (await gatewayStatus(gwDir)).counters
  // The gateway's Call ID for this session: the Key (LW) of the client's data packets (RFC 2637 §4.1).
  const pingBg = lab.execAsync(ns, 'ping', ['-c', '5', '-i', '0.1', GW_TUN], { check: false })
  const seen = await captureGre(lab, srv, outer)
  await pingBg
  const hex = (n: number, bytes: number): string => n.toString(16).padStart(bytes * 2, '0')
  // §4.1 header by hand: K|S (0x30), A=0 Ver=1 (0x01), Protocol Type 880B, Payload Length, Call ID, Sequence Number.
  const data = (callId: number, declaredLength: number, seq: number, payload: string): string => `3001880b${hex(declaredLength, 2)}${hex(callId, 2)}${hex(seq, 4)}${payload}`
  sendRawGre(lab, ns, GW, [
    data(0, 4, 1, 'ff03c021'), // Call ID 0: the gateway never allocates it -> unknown call
    data(seen.callId, 0x100, seen.seq + 1, 'ff03c021'), // the live call, but Payload Length 256 over 4 bytes
    data(seen.callId, 4, (seen.seq + 0x40000000) >>> 0, '00fd9000'), // the live call, sequence number far outside the window
  ])
  // Control connection (RFC 2637 §2.1 header): a bad Magic Cookie, and an Echo-Request before Start-Control-Connection.
  const badCookie = `009c0001deadbeef00010000${'00'.repeat(156 - 12)}`
  const earlyEcho = '001000011a2b3c4d0005000000000001'
  assert.equal(await tcpProbe(lab, ns, GW, 1723, badCookie), 'closed', 'a bad Magic Cookie closes that control connection')
  assert.equal(await tcpProbe(lab, ns, GW, 1723, earlyEcho), 'closed', 'an Echo-Request before Start-Control-Connection closes that control connection')

  let after: Record<string, number> = {}
  await until('the drop counters', async () => {
    after = (await gatewayStatus(gwDir)).counters
    return (after['gre.demux.drop:unknown-call'] ?? 0) > (before['gre.demux.drop:unknown-call'] ?? 0)
  }, 3000).catch((e: Error) => { throw new Error(`${e.message}; gateway counters: ${JSON.stringify(after)}`) })
  const grew = (k: string): number => (after[k] ?? 0) - (before[k] ?? 0)
  assert.equal(grew('gre.demux.drop:unknown-call'), 1, 'the unknown Call ID is counted')
  assert.equal(grew('gre.demux.drop:malformed:gre.payloadLength'), 1, 'the wrong length is counted by field')
  assert.equal(grew('pptp.control-closed:protocol-error'), 2, 'both bad control connections are counted with their reason')
  assert.equal(grew('pptp.control.framing:pptp.magicCookie'), 1, 'the bad Magic Cookie is counted by field')
  assert.ok(pingOk(lab, ns, GW_TUN), 'the live session keeps pinging')
  assert.ok(pingOk(lab, srv, live.address), 'and is reachable from the gateway')
  const sessions = await liveSessions(gwDir)
  assert.equal(sessions.length, 1, 'only the genuine session exists')
  assert.equal(sessions[0]!.address, live.address)
  // The far-ahead packet reached the live call and was dropped there (§4.3), counted per session.
  assert.equal(sessions[0]!.counters?.['gre.drop:far-ahead'], 1, `far-ahead drop counted (${JSON.stringify(sessions[0]!.counters)})`)
  lastClient = live
})

test('gateway SIGTERM exits 0 at once, ends the live session and writes its record', async () => {
  assert.ok(lastClient, 'a session is up')
  assert.ok(gw, 'the gateway is up')
  const client = watchExit(lastClient.c)
  // A control connection that never places a call (and sends nothing) must not hold the shutdown:
  // net.Server.close() would wait for it until the RFC 2637 §2.5 keep-alive gives up, minutes later.
  const { ns } = clientNs()
  const idle = lab.spawn(ns, process.execPath, ['--input-type=module', '-e', `import net from 'node:net'
const s = net.connect(1723, '${GW}', () => process.stdout.write('connected\\n')); s.on('error', () => {}); setTimeout(() => {}, 60000)`])
  await waitForLine(idle, /connected/, 5000)
  const established = lab.exec(srv, 'ss', ['-Htn', 'state', 'established', 'sport', '= :1723']).trim().split('\n').filter(Boolean)
  assert.ok(established.length >= 2, `control connections open at SIGTERM: ${established.length}`)
  await assertSigtermEndsSession(gw, gwDir, lastClient, client)
  await stopChild(idle, 2000)
})

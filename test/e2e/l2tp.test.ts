// End to end, plain L2TP (RFC 2661 over UDP 1701, no IPsec yet; PPP with MPPE-128) in network namespaces
// with real TUN devices: `gatehouse connect l2tp:// --no-ipsec` against `gatehouse serve` with
// l2tp.allowWithoutIpsec (issue 4 §4). 198.18.70.0/24 is the outer network (a bridge in the gateway
// namespace), 198.18.72.0/24 a private network behind a NAT namespace, 198.19.70.0/24 the client pool.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NetnsLab, removeLeftoverNamespaces, stopChild } from '../../src/transport/netns.js'
import { BIN, bridgedClientNs, gatewayStatus, initGateway, liveSessions, pingOk, sessionHistory, until } from '../helpers/e2e-gateway.js'
import { addressOf, assertAllPing, assertClientEndsWithRecord, assertOnlySession, assertTransferBothWays, droppedRecord, assertSigtermEndsSession, assertWrongPasswordRefused, gatewayNs, natBehind, startGateway, transfer, watchExit, type RunningGateway } from '../helpers/e2e-lab.js'

const PASSWORD = 'Correct-Horse-42-battery'
const GW = '198.18.70.1'
const POOL = '198.19.70.0/24'
const GW_TUN = '198.19.70.1'
const KEEPALIVE_S = 2
const KEEPALIVE_FAILURES = 3

const lab = new NetnsLab(`ghl${process.pid % 10000}_`)
let srv = ''
let dir = ''
let gwDir = ''
let gw: RunningGateway | undefined
let nextClient = 0
/** A session still up when the gateway is stopped: its record must be written by the SIGTERM path. */
let lastClient: { c: ChildProcess; address: string } | undefined

function clientNs(): { ns: string; outer: string } {
  return bridgedClientNs(lab, srv, nextClient++, '198.18.70')
}

function connect(ns: string, password = PASSWORD, extra: string[] = ['--no-dns']): ChildProcess {
  const c = lab.spawn(ns, process.execPath, [BIN, 'connect', `l2tp://${GW}`, '--no-ipsec', '--user', 'alice', '--split', POOL, ...extra])
  c.stdin!.end(`${password}\n`)
  return c
}

const connected = (ns: string, extra?: string[]): Promise<{ c: ChildProcess; address: string }> => addressOf(connect(ns, PASSWORD, extra), () => gw?.log() ?? '')

before(async () => {
  removeLeftoverNamespaces()
  srv = gatewayNs(lab, GW)
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-l2tp-'))
  gwDir = join(dir, 'gw')
  initGateway(gwDir, { listen: GW, pool: POOL, dns: '198.19.70.1', protocols: 'sstp', keepaliveSeconds: KEEPALIVE_S, keepaliveFailures: KEEPALIVE_FAILURES }, [['alice', PASSWORD]])
  // Plain L2TP next to L2TP/IPsec: enable it by hand.
  const cfg = join(gwDir, 'gatehouse.yaml')
  const text = readFileSync(cfg, 'utf8').replace(/^protocols: .*$/m, 'protocols: ["sstp", "l2tp"]').replace(/allowWithoutIpsec: false/, 'allowWithoutIpsec: true')
  assert.match(text, /allowWithoutIpsec: true/)
  writeFileSync(cfg, text)
  gw = await startGateway(lab, srv, gwDir)
  const serverLog = gw.log()
  assert.match(serverLog, /Plain L2TP \(without IPsec\) is enabled/, 'the gateway says once, at start, why plain L2TP is weak')
  assert.equal(serverLog.match(/Plain L2TP \(without IPsec\) is enabled/g)?.length, 1)
})

after(async () => {
  if (gw && gw.server.exitCode === null) await stopChild(gw.server, 8000)
  await lab.cleanup()
  rmSync(dir, { recursive: true, force: true })
})

test('l2tp:// without --cert, --psk-file or --no-ipsec is refused before any packet, naming the choices', () => {
  let err = ''
  try {
    execFileSync(process.execPath, [BIN, 'connect', `l2tp://${GW}`, '--user', 'alice'], { input: `${PASSWORD}\n`, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] })
    assert.fail('connect should have failed')
  } catch (e) { err = String((e as { stderr?: string }).stderr ?? e) }
  assert.match(err, /L2TP\/IPsec needs --cert FILE\.p12 .* or --psk-file FILE .*; --no-ipsec connects without IPsec \(weak, like PPTP\)/)
})

test('an L2TP client gets an address and DNS, pings both ways, and moves 20 MB each way intact', async () => {
  const { ns } = clientNs()
  const { c, address } = await connected(ns, [])
  assert.match(address, /^198\.19\.70\.\d+$/)
  assert.ok(pingOk(lab, ns, GW_TUN), 'client pings the gateway tunnel address')
  assert.ok(pingOk(lab, srv, address), 'gateway pings the client')
  assert.match(lab.exec(ns, 'cat', ['/etc/resolv.conf']), /nameserver 198\.19\.70\.1/, 'pushed DNS (RFC 1877) applied')

  const size = 20 * 1024 * 1024
  await assertTransferBothWays(lab, ns, srv, GW_TUN, address, size)

  await assertOnlySession(gwDir, address, 'l2tp')
  const status = await gatewayStatus(gwDir)
  assert.ok(status.listen.some((l) => l.startsWith(`l2tp ${GW}:1701`)), `status lists the L2TP listener (${status.listen.join('; ')})`)

  await assertClientEndsWithRecord(c, gwDir, address, 'l2tp', size)
})

test('a wrong password is refused with a clear message and leaves a failed-auth record', async () => {
  const { ns, outer } = clientNs()
  await assertWrongPasswordRefused(connect(ns, 'Wrong-Password-123'), gwDir, outer, 'l2tp')
})

test('5 clients at once, 2 of them behind one MASQUERADE NAT (no helper), get distinct addresses and all ping', async () => {
  // L2TP over UDP needs no NAT helper: the router rewrites the source port, and the listener keys its
  // tunnels on (address, port, Assigned Tunnel ID), so two clients behind one address stay apart.
  const behindNat = natBehind(lab, srv, { outer: '198.18.70.250', inner: '198.18.72', outerNet: '198.18.70.0/24', clients: 2 })
  const all = [...[0, 1, 2].map(() => clientNs().ns), ...behindNat]
  const clients = await Promise.all(all.map(async (ns) => ({ ns, ...(await connected(ns)) })))
  assert.equal(new Set(clients.map((c) => c.address)).size, 5, 'addresses are distinct')
  const live = await liveSessions(gwDir)
  assert.equal(live.length, 5)
  const natted = live.filter((s) => s.peer.startsWith('198.18.70.250:'))
  assert.equal(natted.length, 2, 'two sessions share the NAT\'s outer address')
  assert.notEqual(natted[0]!.peer, natted[1]!.peer, 'on different source ports')
  await assertAllPing(lab, clients, GW_TUN)
  assert.ok(pingOk(lab, clients[3]!.ns, clients[4]!.address), 'the two clients behind the NAT reach each other through the gateway')
  assert.ok(pingOk(lab, clients[0]!.ns, clients[3]!.address), 'a direct client reaches one behind the NAT')
  await Promise.all(clients.map((c) => stopChild(c.c, 5000, 'SIGINT')))
  await until('all sessions gone', async () => (await liveSessions(gwDir)).length === 0, 10000)
})

test('a killed client is cleaned up by the keepalive, with its record', async () => {
  const { ns } = clientNs()
  const { c, address } = await connected(ns)
  // kill -9 over UDP: nothing tells the gateway; the PPP echo (2 s x 3) or the L2TP HELLO must notice.
  const t0 = Date.now()
  c.kill('SIGKILL')
  const { rec, goneAt } = await droppedRecord(gwDir, address, 'the killed client to be dropped', (KEEPALIVE_S * (KEEPALIVE_FAILURES + 1) + 6) * 1000)
  const elapsed = goneAt - t0
  assert.match(rec.reason ?? '', /echo-timeout|control-closed/, `reason names the keepalive (${rec.reason}, after ${elapsed} ms)`)
  assert.ok(elapsed >= KEEPALIVE_S * (KEEPALIVE_FAILURES - 1) * 1000, `not before the echoes could fail (${elapsed} ms)`)
  lastClient = await connected(clientNs().ns)
})

test('gateway SIGTERM exits 0 at once, ends the live session and writes its record', async () => {
  assert.ok(lastClient, 'a session is up')
  assert.ok(gw, 'the gateway is up')
  await assertSigtermEndsSession(gw, gwDir, lastClient, watchExit(lastClient.c))
})

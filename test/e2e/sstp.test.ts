// End to end in network namespaces with real TUN devices: `gatehouse connect` to `gatehouse serve`
// over SSTP. 198.18.0.0/24 is the outer network (a bridge in the gateway namespace), 198.19.0.0/24
// the client pool. Needs root, iproute2 and ping (CI installs them).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NetnsLab, ip, removeLeftoverNamespaces, stopChild, waitForLine } from '../../src/transport/netns.js'
import { BIN, bridgedClientNs, initGateway, liveSessions as liveAt, pingOk as pingIn, sessionHistory, until } from '../helpers/e2e-gateway.js'
import { assertWrongPasswordRefused, droppedRecord, exitAndStderr, gatewayNs, silence, startGateway, transfer, type RunningGateway } from '../helpers/e2e-lab.js'
const PASSWORD = 'Correct-Horse-42-battery'
const KEEPALIVE_S = 2
const KEEPALIVE_FAILURES = 3

const lab = new NetnsLab(`ghe${process.pid % 10000}_`)
let srv = ''
let dir = ''
let gwDir = ''
let gw: RunningGateway | undefined
let nextClient = 0
let lanNs = ''

/** A client namespace attached to the gateway's bridge with address 198.18.0.(10+n). */
function clientNs(): { ns: string; outer: string } {
  return bridgedClientNs(lab, srv, nextClient++, '198.18.0')
}

function connect(ns: string, password = PASSWORD, user = 'alice'): ChildProcess {
  const c = lab.spawn(ns, process.execPath, [BIN, 'connect', 'sstp://198.18.0.1', '--user', user, '--ca', join(gwDir, 'ca.pem'), '--split', '198.19.0.0/24,198.18.200.0/24'])
  c.stdin!.end(`${password}\n`)
  return c
}

/** Runs `gatehouse connect` with extra arguments to completion; resolves with exit code and stderr. */
async function connectOnce(ns: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const c = lab.spawn(ns, process.execPath, [BIN, 'connect', ...args, '--user', 'alice'])
  c.stdin!.end(`${PASSWORD}\n`)
  return await exitAndStderr(c)
}

const liveSessions = () => liveAt(gwDir)
const history = () => sessionHistory(gwDir)
const pingOk = (ns: string, to: string): boolean => pingIn(lab, ns, to)
const waitFor = until

before(async () => {
  removeLeftoverNamespaces()
  srv = gatewayNs(lab, '198.18.0.1')
  // A private network behind the gateway (198.18.200.0/24) with a host that routes the pool back.
  const lan = lab.ns('lan')
  lab.link(srv, 'lan0', '198.18.200.1/24', lan, 'eth0', '198.18.200.2/24')
  ip('-n', lan, 'route', 'add', '198.19.0.0/24', 'via', '198.18.200.1')
  lanNs = lan
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-'))
  gwDir = join(dir, 'gw')
  initGateway(gwDir, { listen: '198.18.0.1', pool: '198.19.0.0/24', dns: '198.19.0.1,198.19.0.2', keepaliveSeconds: KEEPALIVE_S, keepaliveFailures: KEEPALIVE_FAILURES }, [['alice', PASSWORD]])
  gw = await startGateway(lab, srv, gwDir)
})

after(async () => {
  if (gw) {
    const code = await stopChild(gw.server, 8000)
    assert.equal(code, 0, 'gateway exits 0 on SIGTERM')
  }
  await lab.cleanup()
  rmSync(dir, { recursive: true, force: true })
})

test('a client connects, gets an address and DNS, pings both ways and moves 50 MB intact', async () => {
  const { ns } = clientNs()
  const c = connect(ns)
  const [, address] = await waitForLine(c, /^address (\S+)/, 30000)
  assert.match(address!, /^198\.19\.0\.\d+$/)
  assert.ok(pingOk(ns, '198.19.0.1'), 'client pings the gateway tunnel address')
  assert.ok(pingOk(srv, address!), 'gateway pings the client')
  assert.ok(pingOk(ns, '198.18.200.2'), 'client reaches a host on the network behind the gateway (forwarding)')
  assert.ok(pingOk(lanNs, address!), 'that host reaches the client back')
  const resolv = lab.exec(ns, 'cat', ['/etc/resolv.conf'])
  assert.match(resolv, /nameserver 198\.19\.0\.1\nnameserver 198\.19\.0\.2/, 'pushed DNS applied in the client namespace')

  const size = 50 * 1024 * 1024
  const up = await transfer(lab, ns, srv, '198.19.0.1', size, 180000)
  assert.equal(up.gotBytes, size)
  assert.equal(up.got, up.sent, '50 MB arrive with the same SHA-256')

  const live = await liveSessions()
  assert.equal(live.length, 1)
  assert.equal(live[0]!.user, 'alice')
  assert.equal(live[0]!.address, address)

  assert.equal(await stopChild(c, 5000, 'SIGINT'), 0, 'client exits 0 on SIGINT')
  const rec = await waitFor('the session record', () => history().find((r) => r.assignedAddress === address && r.end), 5000)
  assert.equal(rec.user, 'alice')
  assert.ok((rec.bytesIn ?? 0) > size, 'record counts the bytes received from the client')
  assert.equal((await liveSessions()).length, 0)
})

test('a wrong password fails with a clear message and leaves a failed-auth record', async () => {
  const { ns, outer } = clientNs()
  await assertWrongPasswordRefused(connect(ns, 'Wrong-Password-123'), gwDir, outer)
})

test('connection problems are named: untrusted certificate, name mismatch, refused port, no route', async () => {
  const { ns } = clientNs()
  // ip netns exec binds /etc/netns/NS/hosts over /etc/hosts: a name the certificate does not list.
  writeFileSync(`/etc/netns/${ns}/hosts`, '198.18.0.1 vpn.wrong.example\n')
  const mismatch = await connectOnce(ns, ['sstp://vpn.wrong.example', '--ca', join(gwDir, 'ca.pem')])
  assert.notEqual(mismatch.code, 0)
  assert.match(mismatch.stderr, /certificate is not valid for "vpn\.wrong\.example"/)
  const noRoute = await connectOnce(ns, ['sstp://198.18.99.1', '--ca', join(gwDir, 'ca.pem')])
  assert.notEqual(noRoute.code, 0)
  assert.match(noRoute.stderr, /no route to 198\.18\.99\.1/)
  const untrusted = await connectOnce(ns, ['sstp://198.18.0.1', '--ca', join(gwDir, 'server.pem')])
  assert.notEqual(untrusted.code, 0)
  assert.match(untrusted.stderr, /certificate is not trusted .*--ca FILE/)
  const refused = await connectOnce(ns, ['sstp://198.18.0.1:444', '--ca', join(gwDir, 'ca.pem')])
  assert.notEqual(refused.code, 0)
  assert.match(refused.stderr, /198\.18\.0\.1:444 refused the connection/)
})

test('20 clients at once each get a distinct address and can all ping', async () => {
  const clients: { ns: string; c: ChildProcess; address: string }[] = []
  const spaces = Array.from({ length: 20 }, () => clientNs())
  const procs = spaces.map(({ ns }) => ({ ns, c: connect(ns) }))
  for (const p of procs) {
    const [, address] = await waitForLine(p.c, /^address (\S+)/, 60000)
    clients.push({ ...p, address: address! })
  }
  assert.equal(new Set(clients.map((c) => c.address)).size, 20, 'addresses are distinct')
  assert.equal((await liveSessions()).length, 20)
  for (const c of clients) assert.ok(pingOk(c.ns, '198.19.0.1'), `client ${c.address} pings the gateway`)
  // Client to client through the gateway.
  assert.ok(pingOk(clients[0]!.ns, clients[19]!.address), 'client 0 pings client 19 through the gateway')
  await Promise.all(clients.map((c) => stopChild(c.c, 5000, 'SIGINT')))
  await waitFor('all sessions gone', async () => (await liveSessions()).length === 0, 10000)
})

test('a killed client leaves no stale session; a silent one is dropped by keepalive', async () => {
  // kill -9: the client's kernel closes the TCP connection.
  const a = clientNs()
  const ca = connect(a.ns)
  const [, addrA] = await waitForLine(ca, /^address (\S+)/, 30000)
  ca.kill('SIGKILL')
  const { rec: recA } = await droppedRecord(gwDir, addrA!, 'the killed client to disappear', KEEPALIVE_S * KEEPALIVE_FAILURES * 1000 + 5000)
  assert.ok(recA.reason && recA.reason.length > 0, `record names the reason (${recA.reason})`)

  // A client that goes silent (its link drops every packet): only the keepalive can notice.
  const b = clientNs()
  const cb = connect(b.ns)
  const [, addrB] = await waitForLine(cb, /^address (\S+)/, 30000)
  const t0 = Date.now()
  // This kernel has no sch_netem; a packet filter dropping everything in the client namespace does the same.
  silence(lab, b.ns)
  const { rec: recB, goneAt } = await droppedRecord(gwDir, addrB!, 'the silent client to be dropped', (KEEPALIVE_S * (KEEPALIVE_FAILURES + 1) + 10) * 1000)
  const elapsed = goneAt - t0
  assert.match(recB.reason ?? '', /echo-timeout|timeout/, `reason names the keepalive (${recB.reason}, after ${elapsed} ms)`)
  cb.kill('SIGKILL')
})

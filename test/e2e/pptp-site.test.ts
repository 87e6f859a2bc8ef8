// End to end, router-to-router PPTP (issue 3 §4, the RRAS persistent demand-dial link): two gateways in
// namespaces, each with a LAN namespace behind it. Gateway A dials B as router account "router-a";
// a host on LAN A pings a host on LAN B; the link is cut and restored and comes back by itself; with
// both gateways configured to dial, one link carries both LANs.
//
//   lanA 198.18.71.2 -- gwA 198.18.71.1 | 198.18.70.1 ==outer veth== 198.18.70.2 | gwB 198.18.72.1 -- lanB 198.18.72.2
//   pools: A 198.19.71.0/24, B 198.19.72.0/24
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { NetnsLab, ip, removeLeftoverNamespaces, stopChild, waitForLine } from '../../src/transport/netns.js'

const ROOT = resolve(import.meta.dirname, '../../..')
const BIN = join(ROOT, 'bin/gatehouse.js')
const PASSWORD = 'Router-Link-42-secret'

const lab = new NetnsLab(`ghs${process.pid % 10000}_`)
let dir = ''
let gwA = ''
let gwB = ''
let lanA = ''
let lanB = ''
let serverA: ChildProcess
let serverB: ChildProcess
let logA = ''

function init(d: string, listen: string, pool: string, protocols: string, keepalive = 1): void {
  execFileSync(process.execPath, [BIN, 'init', '--dir', d, '--listen', listen, '--pool', pool, '--protocols', protocols], { stdio: 'ignore' })
  const cfg = join(d, 'gatehouse.yaml')
  writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(/intervalSeconds: \d+/, `intervalSeconds: ${keepalive}`).replace(/^(\s+)failures: \d+/m, '$1failures: 3'))
}

function ping(ns: string, to: string, count = 2): boolean {
  try { lab.exec(ns, 'ping', ['-c', String(count), '-i', '0.2', '-W', '1', to]); return true } catch { return false }
}

async function until(what: string, fn: () => boolean, timeoutMs: number): Promise<number> {
  const t0 = Date.now()
  for (;;) {
    if (fn()) return Date.now() - t0
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n--- gateway A log:\n${logA.slice(-3000)}`)
    await new Promise((r) => setTimeout(r, 300))
  }
}

interface Live { id: string; user: string; protocol: string; address?: string; routes?: string[] }
const sessions = (ns: string, d: string): Live[] => JSON.parse(execFileSync('ip', ['netns', 'exec', ns, process.execPath, BIN, 'sessions', '--dir', d, '--json'], { encoding: 'utf8' })) as Live[]

function dA(): string { return join(dir, 'a') }
function dB(): string { return join(dir, 'b') }

before(async () => {
  removeLeftoverNamespaces()
  gwA = lab.ns('gwa')
  gwB = lab.ns('gwb')
  lanA = lab.ns('lana')
  lanB = lab.ns('lanb')
  lab.link(gwA, 'out0', '198.18.70.1/24', gwB, 'out0', '198.18.70.2/24')
  lab.link(gwA, 'lan0', '198.18.71.1/24', lanA, 'eth0', '198.18.71.2/24')
  lab.link(gwB, 'lan0', '198.18.72.1/24', lanB, 'eth0', '198.18.72.2/24')
  // Each LAN host reaches the other LAN through its own gateway (no default route anywhere).
  ip('-n', lanA, 'route', 'add', '198.18.72.0/24', 'via', '198.18.71.1')
  ip('-n', lanB, 'route', 'add', '198.18.71.0/24', 'via', '198.18.72.1')
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-site-'))
  await startGateways(false)
})


function addLink(d: string, name: string, peer: string, user: string, routes: string): void {
  writeFileSync(join(d, `link-${name}.pass`), `${PASSWORD}\n`, { mode: 0o600 })
  const cfg = join(d, 'gatehouse.yaml')
  writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(/^links: \[\]$/m,
    `links:\n  - name: ${name}\n    peer: pptp://${peer}\n    user: ${user}\n    passwordFile: link-${name}.pass\n    routes: ["${routes}"]`))
}

/** Fresh configuration for both gateways; A always dials B, B dials A too when `bDials` (either side may call). */
async function startGateways(bDials: boolean): Promise<void> {
  rmSync(dA(), { recursive: true, force: true })
  rmSync(dB(), { recursive: true, force: true })
  logA = ''
  // B answers with PPTP and a router account whose routes are LAN A; A does the same for B when B dials too.
  init(dB(), '198.18.70.2', '198.19.72.0/24', 'sstp,pptp')
  execFileSync(process.execPath, [BIN, 'user', 'add', '--dir', dB(), 'router-a', '--routes', '198.18.71.0/24'], { input: `${PASSWORD}\n` })
  init(dA(), '198.18.70.1', '198.19.71.0/24', bDials ? 'sstp,pptp' : 'sstp')
  addLink(dA(), 'b', '198.18.70.2', 'router-a', '198.18.72.0/24')
  if (bDials) {
    execFileSync(process.execPath, [BIN, 'user', 'add', '--dir', dA(), 'router-b', '--routes', '198.18.72.0/24'], { input: `${PASSWORD}\n` })
    addLink(dB(), 'a', '198.18.70.1', 'router-b', '198.18.71.0/24')
  }
  serverB = lab.spawn(gwB, process.execPath, [BIN, 'serve', '--dir', dB()])
  serverA = lab.spawn(gwA, process.execPath, [BIN, 'serve', '--dir', dA()])
  serverA.stderr!.on('data', (d: Buffer) => { logA += d.toString() })
  await Promise.all([waitForLine(serverB, /gateway ready/, 20000, 'stderr'), waitForLine(serverA, /gateway ready/, 20000, 'stderr')])
}

async function stopGateways(): Promise<(number | null)[]> {
  return Promise.all([serverA, serverB].filter(Boolean).map((s) => stopChild(s, 8000)))
}

after(async () => {
  const codes = await stopGateways()
  await lab.cleanup()
  rmSync(dir, { recursive: true, force: true })
  assert.deepEqual(codes, codes.map(() => 0), 'both gateways exit 0 on SIGTERM')
})

test('a host on LAN A pings a host on LAN B over the PPTP router-to-router link, both ways', async () => {
  await until('LAN A to reach LAN B', () => ping(lanA, '198.18.72.2', 1), 30000)
  assert.ok(ping(lanA, '198.18.72.2', 3), 'LAN A -> LAN B')
  assert.ok(ping(lanB, '198.18.71.2', 3), 'LAN B -> LAN A')
  const onB = sessions(gwB, dB())
  assert.equal(onB.length, 1)
  assert.equal(onB[0]!.user, 'router-a')
  assert.deepEqual(onB[0]!.routes, ['198.18.71.0/24'], 'B routes LAN A over the router session')
  const onA = sessions(gwA, dA())
  assert.equal(onA.length, 1)
  assert.equal(onA[0]!.protocol, 'pptp-link')
  assert.deepEqual(onA[0]!.routes, ['198.18.72.0/24'])
})

test('after the link is cut and restored it comes back by itself', async () => {
  await until('the link to be up', () => ping(lanA, '198.18.72.2', 1), 30000)
  // Cut: drop everything between the gateways (the veth stays up, like a dead upstream).
  for (const ns of [gwA, gwB]) lab.exec(ns, 'iptables', ['-I', 'INPUT', '-i', 'out0', '-j', 'DROP'])
  // LCP echo every 1 s, 3 misses: the link is declared dead on both sides within a few seconds.
  await until('A to notice the link is down', () => sessions(gwA, dA()).length === 0, 20000)
  await until('B to drop the router session', () => sessions(gwB, dB()).length === 0, 20000)
  assert.ok(!ping(lanA, '198.18.72.2', 1), 'no traffic while cut')
  await new Promise((r) => setTimeout(r, 3000)) // a few failed redials while cut
  for (const ns of [gwA, gwB]) lab.exec(ns, 'iptables', ['-D', 'INPUT', '-i', 'out0', '-j', 'DROP'])
  const ms = await until('the link to come back', () => ping(lanA, '198.18.72.2', 1), 60000)
  assert.ok(ping(lanB, '198.18.71.2', 3), 'LAN B -> LAN A after the link came back')
  assert.match(logA, /link down/)
  assert.match(logA, /redialling link/)
  assert.ok(ms < 60000, `back within the back-off cap (${ms} ms)`)
})

test('either side may call: with both gateways dialling each other, one link carries both LANs and it does not flap', async () => {
  assert.deepEqual(await stopGateways(), [0, 0])
  await startGateways(true)
  await until('LAN A to reach LAN B', () => ping(lanA, '198.18.72.2', 1), 40000)
  // The other side's crossing dial may still be authenticating when the first link carries traffic; it is
  // refused (routes in use) and its dialler then waits: let that settle before watching.
  await until('one session on each side', () => sessions(gwA, dA()).length === 1 && sessions(gwB, dB()).length === 1, 15000)
  // Watch for a while: a second link would be refused (routes in use) and redial forever, or flap the first.
  const seen = new Set<string>()
  for (let i = 0; i < 8; i++) {
    const a = sessions(gwA, dA()), b = sessions(gwB, dB())
    assert.ok(a.length === 1 && b.length === 1, `one session on each side (A: ${JSON.stringify(a)}, B: ${JSON.stringify(b)})`)
    seen.add(`${a[0]!.id}|${b[0]!.id}`)
    assert.ok(ping(lanA, '198.18.72.2', 1) && ping(lanB, '198.18.71.2', 1), 'both LANs reach each other throughout')
    await new Promise((r) => setTimeout(r, 500))
  }
  assert.equal(seen.size, 1, 'the same link all along (no flapping)')
})

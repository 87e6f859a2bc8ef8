// End to end, IPsec site-to-site (issue 4 §6): two gateways in namespaces, each with a LAN namespace behind
// it, an IKEv1 tunnel-mode SA pair (raw ESP, IP protocol 50) for LAN A <=> LAN B. PSK with A initiating and
// B only answering: LAN A and LAN B ping each other both ways; the link is cut with iptables DROP (DPD
// notices), restored, and the tunnel comes back by itself. Certificates (each gateway trusts the other's CA,
// peerId pinned) with both sides initiating: the LANs reach each other and stay reachable.
//
//   lanA 198.18.81.2 -- gwA 198.18.81.1 | 198.18.80.1 ==outer veth== 198.18.80.2 | gwB 198.18.82.1 -- lanB 198.18.82.2
//   pools: A 198.19.81.0/24, B 198.19.82.0/24
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, type ChildProcess } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { NetnsLab, ip, removeLeftoverNamespaces, stopChild, waitForLine } from '../../src/transport/netns.js'

const ROOT = resolve(import.meta.dirname, '../../..')
const BIN = join(ROOT, 'bin/gatehouse.js')
const PSK = 'site-to-site-psk-0123456789abcdef'
const LAN_A = '198.18.81.0/24'
const LAN_B = '198.18.82.0/24'
/** A second network behind B (lanB's loopback 198.18.83.1): two subnet pairs, two child SAs on one ISAKMP SA. */
const LAN_B2 = '198.18.83.0/24'

const lab = new NetnsLab(`ghi${process.pid % 10000}_`)
let dir = ''
let gwA = '', gwB = '', lanA = '', lanB = ''
let serverA: ChildProcess | undefined
let serverB: ChildProcess | undefined
let logA = ''
let logB = ''

function init(d: string, listen: string, pool: string): void {
  execFileSync(process.execPath, [BIN, 'init', '--dir', d, '--listen', listen, '--pool', pool, '--protocols', 'sstp'], { stdio: 'ignore' })
  const cfg = join(d, 'gatehouse.yaml')
  // keepalive 1 s x 3: DPD (RFC 3706) declares a silent peer dead after about 4 s.
  writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(/intervalSeconds: \d+/, 'intervalSeconds: 1').replace(/^(\s+)failures: \d+/m, '$1failures: 3'))
}

interface TunnelOpts { peer: string; local: readonly string[]; remote: readonly string[]; initiate: boolean; auth: 'psk' | 'certificate'; caFile?: string; peerId?: string }
function addTunnel(d: string, t: TunnelOpts): void {
  const lines = [`  tunnels:`, `    - name: site`, `      peer: ${t.peer}`, `      auth: ${t.auth}`]
  if (t.auth === 'psk') { writeFileSync(join(d, 'site.psk'), `${PSK}\n`, { mode: 0o600 }); lines.push('      pskFile: site.psk') }
  if (t.caFile) lines.push(`      caFile: ${t.caFile}`)
  if (t.peerId) lines.push(`      peerId: ${JSON.stringify(t.peerId)}`)
  lines.push(`      localSubnets: ${JSON.stringify(t.local)}`, `      remoteSubnets: ${JSON.stringify(t.remote)}`, `      initiate: ${t.initiate}`)
  const cfg = join(d, 'gatehouse.yaml')
  const text = readFileSync(cfg, 'utf8')
  assert.match(text, /^ {2}tunnels: \[\]$/m)
  writeFileSync(cfg, text.replace(/^ {2}tunnels: \[\]$/m, lines.join('\n')))
}

function ping(ns: string, to: string, count = 1): boolean {
  try { lab.exec(ns, 'ping', ['-c', String(count), '-i', '0.2', '-W', '1', to]); return true } catch { return false }
}

async function until(what: string, fn: () => boolean, timeoutMs: number): Promise<number> {
  const t0 = Date.now()
  for (;;) {
    if (fn()) return Date.now() - t0
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n--- gateway A log:\n${logA.slice(-3000)}\n--- gateway B log:\n${logB.slice(-3000)}`)
    await new Promise((r) => setTimeout(r, 300))
  }
}

interface Live { id: string; user: string; protocol: string; routes?: string[] }
const sessions = (ns: string, d: string): Live[] => JSON.parse(execFileSync('ip', ['netns', 'exec', ns, process.execPath, BIN, 'sessions', '--dir', d, '--json'], { encoding: 'utf8' })) as Live[]
const dA = (): string => join(dir, 'a')
const dB = (): string => join(dir, 'b')

before(async () => {
  removeLeftoverNamespaces()
  gwA = lab.ns('gwa'); gwB = lab.ns('gwb'); lanA = lab.ns('lana'); lanB = lab.ns('lanb')
  lab.link(gwA, 'out0', '198.18.80.1/24', gwB, 'out0', '198.18.80.2/24')
  lab.link(gwA, 'lan0', '198.18.81.1/24', lanA, 'eth0', '198.18.81.2/24')
  lab.link(gwB, 'lan0', '198.18.82.1/24', lanB, 'eth0', '198.18.82.2/24')
  ip('-n', lanA, 'route', 'add', LAN_B, 'via', '198.18.81.1')
  ip('-n', lanA, 'route', 'add', LAN_B2, 'via', '198.18.81.1')
  ip('-n', lanB, 'addr', 'add', '198.18.83.1/32', 'dev', 'lo')
  ip('-n', gwB, 'route', 'add', LAN_B2, 'via', '198.18.82.2')
  ip('-n', lanB, 'route', 'add', LAN_A, 'via', '198.18.82.1')
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-ipsec-site-'))
})

async function startGateways(auth: 'psk' | 'certificate', bInitiates: boolean): Promise<void> {
  rmSync(dA(), { recursive: true, force: true })
  rmSync(dB(), { recursive: true, force: true })
  logA = ''; logB = ''
  init(dA(), '198.18.80.1', '198.19.81.0/24')
  init(dB(), '198.18.80.2', '198.19.82.0/24')
  const subject = (d: string): string => new X509Certificate(readFileSync(join(d, 'server.pem'))).subject.split('\n').join(', ')
  const cert = (other: string) => (auth === 'certificate' ? { caFile: join(other, 'ca.pem'), peerId: subject(other) } : {})
  addTunnel(dA(), { peer: '198.18.80.2', local: [LAN_A], remote: [LAN_B, LAN_B2], initiate: true, auth, ...cert(dB()) })
  addTunnel(dB(), { peer: '198.18.80.1', local: [LAN_B, LAN_B2], remote: [LAN_A], initiate: bInitiates, auth, ...cert(dA()) })
  serverB = lab.spawn(gwB, process.execPath, [BIN, 'serve', '--dir', dB()])
  serverA = lab.spawn(gwA, process.execPath, [BIN, 'serve', '--dir', dA()])
  serverA.stderr!.on('data', (d: Buffer) => { logA += d.toString() })
  serverB.stderr!.on('data', (d: Buffer) => { logB += d.toString() })
  await Promise.all([waitForLine(serverB, /gateway ready/, 20000, 'stderr'), waitForLine(serverA, /gateway ready/, 20000, 'stderr')])
}

async function stopGateways(): Promise<(number | null)[]> {
  const codes = await Promise.all([serverA, serverB].filter((s) => s !== undefined).map((s) => stopChild(s, 8000)))
  serverA = undefined; serverB = undefined
  return codes
}

after(async () => {
  const codes = await stopGateways()
  await lab.cleanup()
  rmSync(dir, { recursive: true, force: true })
  assert.deepEqual(codes, codes.map(() => 0), 'both gateways exit 0 on SIGTERM')
})

test('PSK, A initiates: LAN A and LAN B ping each other through ESP tunnel mode; each side holds one tunnel session', async () => {
  await startGateways('psk', false)
  await until('LAN A to reach LAN B', () => ping(lanA, '198.18.82.2'), 20000)
  assert.ok(ping(lanA, '198.18.82.2', 3), 'LAN A -> LAN B')
  assert.ok(ping(lanB, '198.18.81.2', 3), 'LAN B -> LAN A')
  // The second pair (LAN A <=> LAN B2) has its own child SA, negotiated on the same ISAKMP SA.
  await until('LAN A to reach LAN B2', () => ping(lanA, '198.18.83.1'), 10000)
  assert.ok(ping(lanA, '198.18.83.1', 3), 'LAN A -> LAN B2')
  // The pings run synchronously, so the gateway's stderr may not have been read yet: wait for the line.
  await until('gateway A to log two children', () => /children=2/.test(logA), 5000)
  for (const [ns, d, routes] of [[gwA, dA(), [LAN_B, LAN_B2]], [gwB, dB(), [LAN_A]]] as const) {
    const s = sessions(ns, d)
    assert.equal(s.length, 1, JSON.stringify(s))
    assert.equal(s[0]!.protocol, 'ipsec-tunnel')
    assert.equal(s[0]!.user, 'tunnel site')
    assert.deepEqual(s[0]!.routes, routes)
  }
  assert.match(logA, /tunnel initiating/)
  assert.doesNotMatch(logB, /tunnel initiating/, 'B only answers (initiate: false)')
  // Raw ESP (no NAT): the packets between the gateways are IP protocol 50; the kernel route of LAN B on A is the TUN.
  assert.match(lab.exec(gwA, 'ip', ['route', 'show', LAN_B]), /dev gh0/)
})

test('PSK: the link cut with iptables DROP is noticed (DPD) and the tunnel comes back by itself when restored', async () => {
  await until('the tunnel to be up', () => ping(lanA, '198.18.82.2'), 20000)
  for (const ns of [gwA, gwB]) lab.exec(ns, 'iptables', ['-I', 'INPUT', '-i', 'out0', '-j', 'DROP'])
  await until('A to notice the tunnel is down', () => sessions(gwA, dA()).length === 0, 20000)
  await until('B to notice the tunnel is down', () => sessions(gwB, dB()).length === 0, 20000)
  // The route stays in the TUN while the tunnel is down: LAN B is unreachable, never reached in clear.
  assert.match(lab.exec(gwA, 'ip', ['route', 'show', LAN_B]), /dev gh0/)
  assert.ok(!ping(lanA, '198.18.82.2'), 'no traffic while cut')
  await new Promise((r) => setTimeout(r, 2000))
  for (const ns of [gwA, gwB]) lab.exec(ns, 'iptables', ['-D', 'INPUT', '-i', 'out0', '-j', 'DROP'])
  const ms = await until('the tunnel to come back', () => ping(lanA, '198.18.82.2'), 40000)
  assert.ok(ping(lanB, '198.18.81.2', 2), 'LAN B -> LAN A after the tunnel came back')
  assert.match(logA, /tunnel down/)
  assert.match(logA, /tunnel attempt scheduled/)
  assert.ok(ms < 40000, `back in ${ms} ms`)
})

test('certificates (each side trusts the other\'s CA, peerId pinned), both sides initiating: the LANs reach each other and stay reachable', async () => {
  assert.deepEqual(await stopGateways(), [0, 0])
  await startGateways('certificate', true)
  await until('LAN A to reach LAN B', () => ping(lanA, '198.18.82.2'), 25000)
  for (let i = 0; i < 3; i++) {
    assert.ok(ping(lanA, '198.18.82.2', 2) && ping(lanB, '198.18.81.2', 2), 'both LANs reach each other throughout')
    const a = sessions(gwA, dA()), b = sessions(gwB, dB())
    assert.ok(a.length === 1 && b.length === 1, `one tunnel session on each side (A: ${JSON.stringify(a)}, B: ${JSON.stringify(b)})`)
    await new Promise((r) => setTimeout(r, 400))
  }
  assert.match(logA, /tunnel IKE SA up/)
  assert.match(logB, /tunnel initiating/)
})

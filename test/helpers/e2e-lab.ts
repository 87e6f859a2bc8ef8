// What the SSTP, PPTP and plain-L2TP end-to-end tests share: the gateway namespace with its bridge,
// `gatehouse serve` start with its log kept, a masquerading NAT namespace, the sha256 transfer, and
// the checks that read the same for every protocol (wrong password, gateway SIGTERM).
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { ip, stopChild, waitForLine, type NetnsLab } from '../../src/transport/netns.js'
import { BIN, TRANSFER, liveSessions, sessionHistory, until, type SessionRecord } from './e2e-gateway.js'

/** The gateway namespace `srv` with bridge br0 carrying the gateway's outer address `gw`/24. */
export function gatewayNs(lab: NetnsLab, gw: string): string {
  const srv = lab.ns('srv')
  ip('-n', srv, 'link', 'add', 'br0', 'type', 'bridge')
  ip('-n', srv, 'addr', 'add', `${gw}/24`, 'dev', 'br0')
  ip('-n', srv, 'link', 'set', 'br0', 'up')
  return srv
}

export interface RunningGateway {
  readonly server: ChildProcess
  /** The last 20,000 characters the gateway wrote to stderr. */
  log(): string
}

/** Spawns `gatehouse serve --dir gwDir` in `srv`, keeps its stderr, and waits for "gateway ready". */
export async function startGateway(lab: NetnsLab, srv: string, gwDir: string): Promise<RunningGateway> {
  const server = lab.spawn(srv, process.execPath, [BIN, 'serve', '--dir', gwDir])
  let log = ''
  server.stderr!.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-20000) })
  await waitForLine(server, /gateway ready/, 20000, 'stderr')
  return { server, log: () => log }
}

export interface NatOptions {
  /** The router's address on the gateway's bridge. */
  readonly outer: string
  /** First three octets of the private network behind the router (router .1, clients .10+i). */
  readonly inner: string
  /** The outer /24 the clients route to through the router. */
  readonly outerNet: string
  readonly clients: number
  /** Extra iptables argument lists run in the router before the MASQUERADE rule (e.g. a conntrack helper). */
  readonly before?: readonly (readonly string[])[]
}

/** A masquerading router namespace on the gateway's bridge, with `clients` namespaces behind it. */
export function natBehind(lab: NetnsLab, srv: string, o: NatOptions): string[] {
  const nat = lab.ns('nat')
  ip('link', 'add', 'nat0', 'netns', nat, 'type', 'veth', 'peer', 'name', 'bnat', 'netns', srv)
  ip('-n', nat, 'addr', 'add', `${o.outer}/24`, 'dev', 'nat0')
  ip('-n', nat, 'link', 'set', 'nat0', 'up')
  ip('-n', srv, 'link', 'set', 'bnat', 'master', 'br0')
  ip('-n', srv, 'link', 'set', 'bnat', 'up')
  ip('-n', nat, 'link', 'add', 'brn', 'type', 'bridge')
  ip('-n', nat, 'addr', 'add', `${o.inner}.1/24`, 'dev', 'brn')
  ip('-n', nat, 'link', 'set', 'brn', 'up')
  lab.exec(nat, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1'])
  for (const rule of o.before ?? []) lab.exec(nat, 'iptables', [...rule])
  lab.exec(nat, 'iptables', ['-t', 'nat', '-A', 'POSTROUTING', '-o', 'nat0', '-j', 'MASQUERADE'])
  return Array.from({ length: o.clients }, (_, i) => {
    const ns = lab.ns(`n${i}`)
    ip('link', 'add', `w${i}`, 'netns', ns, 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', nat)
    ip('-n', ns, 'addr', 'add', `${o.inner}.${10 + i}/24`, 'dev', `w${i}`)
    ip('-n', ns, 'link', 'set', `w${i}`, 'up')
    ip('-n', ns, 'route', 'add', o.outerNet, 'via', `${o.inner}.1`)
    ip('-n', nat, 'link', 'set', `p${i}`, 'master', 'brn')
    ip('-n', nat, 'link', 'set', `p${i}`, 'up')
    return ns
  })
}

/** Sends `bytes` from namespace `fromNs` to `to`:5001 (a receiver started in `toNs`); returns both ends' byte counts and hashes. */
export async function transfer(lab: NetnsLab, fromNs: string, toNs: string, to: string, bytes: number, timeoutMs = 120000): Promise<{ sent: string; got: string; gotBytes: number }> {
  const recv = lab.spawn(toNs, process.execPath, [TRANSFER, 'recv', to, '5001'])
  await waitForLine(recv, /listening/, 10000)
  const out = await lab.execAsync(fromNs, process.execPath, [TRANSFER, 'send', to, '5001', String(bytes)], { timeoutMs })
  const r = JSON.parse(out.stdout) as { sha256: string; receiver: { bytes: number; sha256: string } }
  return { sent: r.sha256, got: r.receiver.sha256, gotBytes: r.receiver.bytes }
}

/** Waits for a child to exit; resolves with its exit code and everything it wrote to stderr. */
export async function exitAndStderr(c: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = ''
  c.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
  const code = await new Promise<number | null>((r) => c.on('exit', r))
  return { code, stderr }
}

/**
 * A client started with a wrong password (`c`, from outer address `outer`) must exit non-zero naming
 * the refused login, leave a failed-auth record (of `protocol` when given) and no live session.
 */
export async function assertWrongPasswordRefused(c: ChildProcess, gwDir: string, outer: string, protocol?: string): Promise<void> {
  const { code, stderr } = await exitAndStderr(c)
  assert.notEqual(code, 0)
  assert.match(stderr, /authentication failed for user "alice": wrong user name or password/)
  const rec = sessionHistory(gwDir).find((r) => r.peer.startsWith(`${outer}:`))
  assert.ok(rec, 'a record for the refused login')
  if (protocol !== undefined) assert.equal(rec.protocol, protocol)
  assert.match(rec.reason ?? '', /bad-credentials|auth/)
  assert.equal((await liveSessions(gwDir)).length, 0)
}

/** Drops every packet in and out of namespace `ns` (this kernel has no sch_netem): a dead link. */
export function silence(lab: NetnsLab, ns: string): void {
  lab.exec(ns, 'iptables', ['-A', 'INPUT', '-j', 'DROP'])
  lab.exec(ns, 'iptables', ['-A', 'OUTPUT', '-j', 'DROP'])
}

/** Collects a client's stderr and its exit code, to be read after the gateway is stopped. */
export function watchExit(c: ChildProcess): { stderr(): string; exit: Promise<number | null> } {
  let err = ''
  c.stderr!.on('data', (d: Buffer) => { err += d.toString() })
  return { stderr: () => err, exit: new Promise<number | null>((r) => c.on('exit', r)) }
}

/**
 * Stops the gateway with SIGTERM: it must exit 0 within 5 s, write the end record (reason admin) of
 * the session still up (`live`), and that client must notice and exit 1 within 8 s.
 */
export async function assertSigtermEndsSession(gw: RunningGateway, gwDir: string, live: { c: ChildProcess; address: string }, client: { stderr(): string; exit: Promise<number | null> }): Promise<void> {
  const t0 = Date.now()
  const code = await stopChild(gw.server, 8000)
  const ms = Date.now() - t0
  assert.equal(code, 0, `gateway exits 0 on SIGTERM (exit ${code} after ${ms} ms); its log ends:\n${gw.log().slice(-2000)}`)
  assert.ok(ms < 5000, `and promptly (${ms} ms)`)
  const rec = sessionHistory(gwDir).find((r) => r.assignedAddress === live.address)
  assert.ok(rec?.end, 'the live session has an end record')
  assert.equal(rec.reason, 'admin', `reason ${rec.reason}`)
  const clientCode = await Promise.race([client.exit, new Promise<string>((r) => setTimeout(() => r('still running'), 8000))])
  assert.equal(clientCode, 1, `the client notices the gateway went away and exits 1 (${client.stderr().trim().split('\n').pop()})`)
}

/** Waits up to 30 s for a started client's "address A.B.C.D" line; a timeout names its stderr and the gateway's log. */
export async function addressOf(c: ChildProcess, gatewayLog: () => string = () => ''): Promise<{ c: ChildProcess; address: string }> {
  let err = ''
  c.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000) })
  const [, address] = await waitForLine(c, /^address (\S+)/, 30000).catch((e: Error) => { throw new Error(`${e.message}; client stderr:\n${err}\ngateway log:\n${gatewayLog().slice(-3000)}`) })
  return { c, address: address! }
}

/** Moves `bytes` client -> gateway (to `gwTun`) and gateway -> client (to `address`); both must arrive whole with the same SHA-256. */
export async function assertTransferBothWays(lab: NetnsLab, ns: string, srv: string, gwTun: string, address: string, bytes: number): Promise<void> {
  const mb = `${bytes / (1024 * 1024)} MB`
  const up = await transfer(lab, ns, srv, gwTun, bytes)
  assert.equal(up.gotBytes, bytes)
  assert.equal(up.got, up.sent, `client -> gateway: ${mb} arrive with the same SHA-256`)
  const down = await transfer(lab, srv, ns, address, bytes)
  assert.equal(down.gotBytes, bytes)
  assert.equal(down.got, down.sent, `gateway -> client: ${mb} arrive with the same SHA-256`)
}

/** Exactly one live session: alice's, of `protocol`, at `address`. */
export async function assertOnlySession(gwDir: string, address: string, protocol: string): Promise<void> {
  const live = await liveSessions(gwDir)
  assert.equal(live.length, 1)
  assert.equal(live[0]!.user, 'alice')
  assert.equal(live[0]!.protocol, protocol)
  assert.equal(live[0]!.address, address)
}

/** SIGINT ends client `c` with exit 0; its record (alice, `protocol`) counts more than `bytes` each way; no session is left. */
export async function assertClientEndsWithRecord(c: ChildProcess, gwDir: string, address: string, protocol: string, bytes: number): Promise<void> {
  assert.equal(await stopChild(c, 5000, 'SIGINT'), 0, 'client exits 0 on SIGINT')
  const rec = await until('the session record', () => sessionHistory(gwDir).find((r) => r.assignedAddress === address && r.end), 5000)
  assert.equal(rec.user, 'alice')
  assert.equal(rec.protocol, protocol)
  assert.ok((rec.bytesIn ?? 0) > bytes && (rec.bytesOut ?? 0) > bytes, `record counts both directions (${rec.bytesIn} in, ${rec.bytesOut} out)`)
  assert.equal((await liveSessions(gwDir)).length, 0)
}

/**
 * Waits (up to `timeoutMs`, naming `what`) for the session at `address` to leave the live list, then up
 * to 5 s for its end record; `goneAt` is when it left (Date.now()), so timings exclude the record wait.
 */
export async function droppedRecord(gwDir: string, address: string, what: string, timeoutMs: number): Promise<{ rec: SessionRecord; goneAt: number }> {
  await until(what, async () => !(await liveSessions(gwDir)).some((s) => s.address === address), timeoutMs)
  const goneAt = Date.now()
  return { rec: await until('its record', () => sessionHistory(gwDir).find((r) => r.assignedAddress === address && r.end), 5000), goneAt }
}

/** Every client pings `to` at once (two pings, 2 s wait each); each failure names the client. */
export async function assertAllPing(lab: NetnsLab, clients: readonly { ns: string; address: string }[], to: string): Promise<void> {
  const pings = await Promise.all(clients.map(async (c) => ({ c, ok: (await lab.execAsync(c.ns, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', to], { check: false })).code === 0 })))
  for (const { c, ok } of pings) assert.ok(ok, `client ${c.address} (${c.ns}) pings the gateway`)
}

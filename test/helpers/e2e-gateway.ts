// Shared pieces of the end-to-end tests that run `gatehouse serve` in a lab namespace: gateway set-up,
// the control socket (live sessions, status counters), accounting records, ping, polling, and small
// probes that put hostile bytes on the wire (raw GRE, garbage on a TCP port) from inside a namespace.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ip, type NetnsLab } from '../../src/transport/netns.js'
import { controlRequest } from '../../src/transport/control-socket.js'
import type { GatewayStatus, SessionInfo } from '../../src/control/api.js'

export const ROOT = resolve(import.meta.dirname, '../../..')
export const BIN = join(ROOT, 'bin/gatehouse.js')
export const TRANSFER = join(ROOT, 'dist/src/tools/transfer.js')
const RAW_IP = join(ROOT, 'dist/src/transport/raw-ip.js')

export interface InitOptions {
  readonly listen: string
  readonly pool: string
  readonly dns?: string
  readonly protocols?: string
  readonly keepaliveSeconds: number
  readonly keepaliveFailures: number
  /** More `gatehouse init` arguments (e.g. ['--psk-file', FILE]). */
  readonly extra?: readonly string[]
}

/** `gatehouse init` into `dir` with short keepalives, then `user add` for each [name, password]. */
export function initGateway(dir: string, o: InitOptions, users: readonly (readonly [string, string])[]): void {
  execFileSync(process.execPath, [BIN, 'init', '--dir', dir, '--listen', o.listen, '--pool', o.pool,
    ...(o.dns ? ['--dns', o.dns] : []), ...(o.protocols ? ['--protocols', o.protocols] : []), ...(o.extra ?? [])], { stdio: 'ignore' })
  const cfg = join(dir, 'gatehouse.yaml')
  writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(/intervalSeconds: \d+/, `intervalSeconds: ${o.keepaliveSeconds}`).replace(/^(\s+)failures: \d+/m, `$1failures: ${o.keepaliveFailures}`))
  for (const [user, password] of users) execFileSync(process.execPath, [BIN, 'user', 'add', '--dir', dir, user], { input: `${password}\n` })
}

/** Live sessions, straight from the control socket (a Unix socket path works across network namespaces). */
export async function liveSessions(dir: string): Promise<SessionInfo[]> {
  return await controlRequest(join(dir, 'control.sock'), { cmd: 'sessions' }) as SessionInfo[]
}

/** The gateway's status, counters included. */
export async function gatewayStatus(dir: string): Promise<GatewayStatus> {
  return await controlRequest(join(dir, 'control.sock'), { cmd: 'status' }) as GatewayStatus
}

export interface SessionRecord { user: string; protocol?: string; peer: string; assignedAddress?: string; reason?: string; start?: number; end?: number; bytesIn?: number; bytesOut?: number; result?: string }

/** Accounting records through the CLI (`sessions --history --json`), newest first; works with the gateway stopped too. */
export function sessionHistory(dir: string): SessionRecord[] {
  return JSON.parse(execFileSync(process.execPath, [BIN, 'sessions', '--dir', dir, '--history', '--json', '--limit', '500'], { encoding: 'utf8' })) as SessionRecord[]
}

/** Two pings (0.2 s apart, 2 s wait): true when they are answered. */
export function pingOk(lab: NetnsLab, ns: string, to: string): boolean {
  try { lab.exec(ns, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', to]); return true } catch { return false }
}

/** Polls `fn` every 150 ms until it returns something truthy; rejects naming `what` after `timeoutMs`. */
export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const t0 = Date.now()
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 150))
  }
}

/**
 * Sends raw IP protocol-47 datagrams (hex strings: the bytes after the IPv4 header; the kernel writes
 * the IPv4 header with this namespace's source address) to `dest` from namespace `ns`.
 */
export function sendRawGre(lab: NetnsLab, ns: string, dest: string, packetsHex: readonly string[]): void {
  const script = `import { RawIpSocket } from ${JSON.stringify(RAW_IP)}
const s = RawIpSocket.open({ protocol: 47 })
for (const h of process.argv.slice(1)) // node -e: the arguments start at argv[1]
  s.send(${JSON.stringify(dest)}, Uint8Array.from(Buffer.from(h, 'hex')))
s.close()`
  lab.exec(ns, process.execPath, ['--input-type=module', '-e', script, ...packetsHex])
}

/**
 * Reads GRE arriving in namespace `ns` (a raw socket sees a copy of every protocol-47 datagram) until
 * one from `from` carries a sequence number; resolves with its Call ID and sequence number.
 */
export async function captureGre(lab: NetnsLab, ns: string, from: string, timeoutMs = 5000): Promise<{ callId: number; seq: number }> {
  const script = `import { RawIpSocket } from ${JSON.stringify(RAW_IP)}
const s = RawIpSocket.open({ protocol: 47 })
setTimeout(() => { process.stderr.write('no GRE data packet seen'); process.exit(3) }, ${timeoutMs})
s.onPackets((batch) => {
  for (const p of batch) {
    const b = p.payload
    if (p.from !== ${JSON.stringify(from)} || b.length < 12 || !(b[0] & 0x10)) continue
    process.stdout.write(JSON.stringify({ callId: (b[6] << 8) | b[7], seq: new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(8) }) + '\\n')
    process.exit(0)
  }
})`
  const out = await lab.execAsync(ns, process.execPath, ['--input-type=module', '-e', script], { timeoutMs: timeoutMs + 3000 })
  return JSON.parse(out.stdout) as { callId: number; seq: number }
}

/**
 * Opens TCP to host:port from namespace `ns`, writes `hex`, and reports how the connection ended within
 * `timeoutMs`: 'closed' (the peer sent FIN or RST) or 'open' (still open when time ran out).
 */
export async function tcpProbe(lab: NetnsLab, ns: string, host: string, port: number, hex: string, timeoutMs = 3000): Promise<'closed' | 'open'> {
  const script = `import net from 'node:net'
const s = net.connect(${port}, ${JSON.stringify(host)}, () => s.write(Buffer.from(${JSON.stringify(hex)}, 'hex')))
let done = false
const finish = (how) => { if (done) return; done = true; process.stdout.write(how); s.destroy(); process.exit(0) }
s.on('data', () => {})
s.on('end', () => finish('closed'))
s.on('close', () => finish('closed'))
s.on('error', () => finish('closed'))
setTimeout(() => finish('open'), ${timeoutMs})`
  const out = await lab.execAsync(ns, process.execPath, ['--input-type=module', '-e', script], { timeoutMs: timeoutMs + 3000 })
  return out.stdout.trim() as 'closed' | 'open'
}

/** Packet and byte counts of the iptables rules of one chain in a namespace, in rule order. */
export function iptablesCounts(lab: NetnsLab, ns: string, chain: string): number[] {
  return lab.exec(ns, 'iptables', ['-L', chain, '-v', '-x', '-n']).split('\n').slice(2).filter((l) => l.trim()).map((l) => Number(l.trim().split(/\s+/)[0]))
}

/**
 * Client namespace number `n` on the gateway namespace's bridge br0: veth v<n> (client side, address
 * `${subnet}.${10 + n}/24`) and b<n> (bridge port in `gwNs`).
 */
export function bridgedClientNs(lab: NetnsLab, gwNs: string, n: number, subnet: string): { ns: string; outer: string } {
  const ns = lab.ns(`c${n}`)
  const outer = `${subnet}.${10 + n}`
  ip('link', 'add', `v${n}`, 'netns', ns, 'type', 'veth', 'peer', 'name', `b${n}`, 'netns', gwNs)
  ip('-n', ns, 'addr', 'add', `${outer}/24`, 'dev', `v${n}`)
  ip('-n', ns, 'link', 'set', `v${n}`, 'up')
  ip('-n', gwNs, 'link', 'set', `b${n}`, 'master', 'br0')
  ip('-n', gwNs, 'link', 'set', `b${n}`, 'up')
  return { ns, outer }
}

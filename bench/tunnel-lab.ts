// Bench building blocks shared by every protocol's rows: a gateway and a client namespace joined by
// a veth pair, `gatehouse init/serve/connect` in them, iperf3 between them, the gateway's RSS.
import { execFileSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { NetnsLab, stopChild, waitForLine } from '../src/transport/netns.js'

const ROOT = resolve(import.meta.dirname, '../..')
export const BIN = join(ROOT, 'bin/gatehouse.js')
export const PASSWORD = 'Tunnel-Speed-2026!'
export const USER = 'bench'
/** Outer addresses (veth) and the pool; the gateway's tunnel-side address is the pool's first. */
export const GATEWAY = '198.18.0.1'
export const POOL = '198.19.0.0/23'
export const TUNNEL_GATEWAY = '198.19.0.1'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Keeps reading a child's output so a chatty child never blocks on a full pipe while we run iperf3. */
function drain(c: ChildProcess): void { c.stdout?.resume(); c.stderr?.resume() }

export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : NaN
}

/** Two namespaces `srv` (the gateway, GATEWAY/24) and `cli` (198.18.0.2/24) joined by one veth pair. */
export class BenchLab {
  readonly lab: NetnsLab
  readonly srv: string
  readonly cli: string

  constructor(prefix: string) {
    this.lab = new NetnsLab(prefix)
    this.srv = this.lab.ns('srv')
    this.cli = this.lab.ns('cli')
    this.lab.link(this.srv, 'srv0', `${GATEWAY}/24`, this.cli, 'cli0', '198.18.0.2/24')
  }

  /** `gatehouse init` in `dir` for these protocols, plus the bench user. */
  initGateway(dir: string, protocols: readonly string[]): void {
    execFileSync(process.execPath, [BIN, 'init', '--dir', dir, '--listen', GATEWAY, '--pool', POOL, '--protocols', protocols.join(',')], { stdio: 'ignore' })
    execFileSync(process.execPath, [BIN, 'user', 'add', '--dir', dir, USER], { input: `${PASSWORD}\n`, stdio: ['pipe', 'ignore', 'inherit'] })
  }

  /** `gatehouse serve` in the gateway namespace; resolves once its control socket exists. `nodeArgs` e.g. --cpu-prof. */
  async startGateway(dir: string, nodeArgs: readonly string[] = []): Promise<ChildProcess> {
    const server = this.lab.spawn(this.srv, process.execPath, [...nodeArgs, BIN, 'serve', '--dir', dir, '--log-level', 'warn'])
    await sleep(300)
    await waitForLine(this.lab.spawn(this.srv, 'sh', ['-c', `until [ -S ${dir}/control.sock ]; do sleep 0.1; done; echo ready`]), /ready/, 20000)
    drain(server)
    return server
  }

  /** `gatehouse connect URL` in the client namespace (split tunnel to the pool, DNS untouched); resolves once it prints its address. */
  async connect(url: string, extra: readonly string[] = []): Promise<ChildProcess> {
    const client = this.lab.spawn(this.cli, process.execPath, [BIN, 'connect', url, '--user', USER, ...extra, '--split', POOL, '--no-dns'])
    client.stdin!.end(`${PASSWORD}\n`)
    await waitForLine(client, /^address /, 30000)
    drain(client)
    return client
  }

  /** TCP throughput in Mbit/s from the client namespace to `to` (reverse: `to` sends), one fresh iperf3 server per run. */
  async iperf(to: string, seconds: number, reverse = false): Promise<number> {
    const server = this.lab.spawn(this.srv, 'iperf3', ['-s', '-1', '--forceflush'])
    await sleep(300)
    try {
      const args = ['-c', to, '-t', String(seconds), '-J', ...(reverse ? ['-R'] : [])]
      const out = JSON.parse(this.lab.exec(this.cli, 'iperf3', args, { timeoutMs: (seconds + 20) * 1000 })) as { end: { sum_received: { bits_per_second: number } } }
      return out.end.sum_received.bits_per_second / 1e6
    } finally {
      await stopChild(server, 2000)
    }
  }

  cleanup(): Promise<void> { return this.lab.cleanup() }
}

/**
 * A bench file run on its own (`node dist/bench/NAME.js [seconds]`): the veth baseline, then `rows(lab, dir, seconds, veth)`,
 * printed as an aligned table; the namespaces and the scratch directory are removed whatever happens.
 */
export async function runStandalone(rows: (lab: BenchLab, dir: string, seconds: number, veth: number) => Promise<[string, string][]>): Promise<void> {
  const seconds = Number(process.argv[2] ?? 5)
  const lab = new BenchLab(`ghk${process.pid % 10000}_`)
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'))
  try {
    const veth = await lab.iperf(GATEWAY, seconds)
    const all: [string, string][] = [[`TCP through veth (baseline), iperf3 ${seconds} s`, `${veth.toFixed(0)} Mbit/s`], ...await rows(lab, dir, seconds, veth)]
    const w = Math.max(...all.map((r) => r[0].length))
    process.stdout.write(all.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n')
  } finally {
    await lab.cleanup()
    rmSync(dir, { recursive: true, force: true })
  }
}

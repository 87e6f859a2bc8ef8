// `npm run bench`: TCP throughput through the SSTP tunnel next to the bare veth pair (iperf3, 5 s
// each, same run), and the gateway's RSS with 1 and with 100 sessions. Prints figures and ratios.
// Needs root, iproute2, iperf3. Bounded: 3 x 5 s of iperf3, 100 sessions.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { NetnsLab, stopChild, waitForLine } from '../src/transport/netns.js'

const ROOT = resolve(import.meta.dirname, '../..')
const BIN = join(ROOT, 'bin/gatehouse.js')
const LOAD = join(ROOT, 'dist/src/tools/load-clients.js')
const PASSWORD = 'Tunnel-Speed-2026!'
const SECONDS = 5

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : NaN
}

async function main(): Promise<void> {
  const lab = new NetnsLab(`ghb${process.pid % 10000}_`)
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'))
  try {
    const srv = lab.ns('srv')
    const cli = lab.ns('cli')
    lab.link(srv, 'srv0', '198.18.0.1/24', cli, 'cli0', '198.18.0.2/24')
    const gwDir = join(dir, 'gw')
    execFileSync(process.execPath, [BIN, 'init', '--dir', gwDir, '--listen', '198.18.0.1', '--pool', '198.19.0.0/23'], { stdio: 'ignore' })
    execFileSync(process.execPath, [BIN, 'user', 'add', '--dir', gwDir, 'bench'], { input: `${PASSWORD}\n`, stdio: ['pipe', 'ignore', 'inherit'] })
    const server = lab.spawn(srv, process.execPath, [BIN, 'serve', '--dir', gwDir, '--log-level', 'warn'])
    await new Promise((r) => setTimeout(r, 300))
    await waitForLine(lab.spawn(srv, 'sh', ['-c', `until [ -S ${gwDir}/control.sock ]; do sleep 0.1; done; echo ready`]), /ready/, 20000)
    const iperfServer = lab.spawn(srv, 'iperf3', ['-s', '-1', '--forceflush'])
    const iperf = (to: string, reverse = false): number => {
      const args = ['-c', to, '-t', String(SECONDS), '-J', ...(reverse ? ['-R'] : [])]
      const out = JSON.parse(lab.exec(cli, 'iperf3', args, { timeoutMs: (SECONDS + 20) * 1000 })) as { end: { sum_received: { bits_per_second: number } } }
      return out.end.sum_received.bits_per_second / 1e6
    }
    await new Promise((r) => setTimeout(r, 300))
    const veth = iperf('198.18.0.1')
    await stopChild(iperfServer, 2000)

    const client = lab.spawn(cli, process.execPath, [BIN, 'connect', 'sstp://198.18.0.1', '--user', 'bench', '--ca', join(gwDir, 'ca.pem'), '--split', '198.19.0.0/23', '--no-dns'])
    client.stdin!.end(`${PASSWORD}\n`)
    await waitForLine(client, /^address /, 30000)
    const rss1 = rssMiB(server.pid!)
    const iperfServer2 = lab.spawn(srv, 'iperf3', ['-s', '-1'])
    await new Promise((r) => setTimeout(r, 300))
    const sstp = iperf('198.19.0.1')
    await stopChild(iperfServer2, 2000)
    const iperfServer3 = lab.spawn(srv, 'iperf3', ['-s', '-1'])
    await new Promise((r) => setTimeout(r, 300))
    const sstpDown = iperf('198.19.0.1', true)
    await stopChild(iperfServer3, 2000)

    const load = lab.spawn(cli, process.execPath, [LOAD, '198.18.0.1', '443', 'bench', '99'])
    load.stdin!.end(`${PASSWORD}\n`)
    const [, upCount] = await waitForLine(load, /^up (\d+)/, 120000)
    await new Promise((r) => setTimeout(r, 1000))
    const rss100 = rssMiB(server.pid!)
    await stopChild(load, 5000)
    await stopChild(client, 5000, 'SIGINT')
    await stopChild(server, 8000)

    const rows: [string, string][] = [
      [`TCP through veth (baseline), iperf3 ${SECONDS} s`, `${veth.toFixed(0)} Mbit/s`],
      [`TCP through SSTP tunnel, client -> gateway, iperf3 ${SECONDS} s`, `${sstp.toFixed(0)} Mbit/s`],
      [`TCP through SSTP tunnel, gateway -> client, iperf3 -R ${SECONDS} s`, `${sstpDown.toFixed(0)} Mbit/s`],
      ['ratio SSTP / veth (client -> gateway)', `${(sstp / veth).toFixed(3)}`],
      ['ratio SSTP / veth (gateway -> client)', `${(sstpDown / veth).toFixed(3)}`],
      ['gateway RSS, 1 session', `${rss1.toFixed(1)} MiB`],
      [`gateway RSS, ${Number(upCount) + 1} sessions`, `${rss100.toFixed(1)} MiB`],
      ['RSS per extra session', `${(((rss100 - rss1) * 1024) / Math.max(1, Number(upCount))).toFixed(0)} KiB`],
    ]
    const w = Math.max(...rows.map((r) => r[0].length))
    process.stdout.write(rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n')
  } finally {
    await lab.cleanup()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()

// Bench rows for IPsec site-to-site (issue 4 §6): two `gatehouse serve` gateways with one PSK tunnel (IKEv1
// main + quick mode, ESP tunnel mode, RFC 4303 §3.1.2, raw IP protocol 50), each with a LAN namespace behind
// it; TCP from LAN B to LAN A and back through the tunnel (iperf3), next to the bench's veth baseline.
//
//   lanA 198.18.11.2 -- gwA 198.18.11.1 | 198.18.10.1 ==veth== 198.18.10.2 | gwB 198.18.12.1 -- lanB 198.18.12.2
import { execFileSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ip, stopChild, waitForLine } from '../src/transport/netns.js'
import { BIN, BenchLab, rssMiB, runStandalone } from './tunnel-lab.js'

const PSK = 'bench-site-to-site-psk-0123456789abcdef'
const LAN_A = '198.18.11.0/24'
const LAN_B = '198.18.12.0/24'
const HOST_A = '198.18.11.2'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export interface IpsecSiteFigures {
  readonly suite: string
  /** LAN B -> LAN A and LAN A -> LAN B, Mbit/s. */
  readonly bToA: number
  readonly aToB: number
  readonly rssA: number
}

/** `gatehouse init` (SSTP only: the tunnel needs no client protocol) plus one PSK tunnel in the config. */
function initGateway(dir: string, listen: string, pool: string, peer: string, local: string, remote: string, initiate: boolean): void {
  execFileSync(process.execPath, [BIN, 'init', '--dir', dir, '--listen', listen, '--pool', pool, '--protocols', 'sstp'], { stdio: 'ignore' })
  writeFileSync(join(dir, 'site.psk'), `${PSK}\n`, { mode: 0o600 })
  const cfg = join(dir, 'gatehouse.yaml')
  const text = readFileSync(cfg, 'utf8')
  const tunnel = ['  tunnels:', '    - name: bench', `      peer: ${peer}`, '      auth: psk', '      pskFile: site.psk',
    `      localSubnets: ["${local}"]`, `      remoteSubnets: ["${remote}"]`, `      initiate: ${initiate}`].join('\n')
  if (!/^ {2}tunnels: \[\]$/m.test(text)) throw new Error(`no 'tunnels: []' in ${cfg}: the config template changed`)
  writeFileSync(cfg, text.replace(/^ {2}tunnels: \[\]$/m, tunnel))
}

function ping(lab: BenchLab, ns: string, to: string): boolean {
  try { lab.lab.exec(ns, 'ping', ['-c', '1', '-W', '1', to]); return true } catch { return false }
}

/** TCP throughput in Mbit/s from namespace `from` to an iperf3 server in `serverNs` at `to` (reverse: the server sends). */
async function iperf(lab: BenchLab, serverNs: string, from: string, to: string, seconds: number, reverse: boolean): Promise<number> {
  const server = lab.lab.spawn(serverNs, 'iperf3', ['-s', '-1', '--forceflush'])
  server.stdout!.resume(); server.stderr!.resume()
  await sleep(300)
  try {
    const args = ['-c', to, '-t', String(seconds), '-J', ...(reverse ? ['-R'] : [])]
    const out = JSON.parse(lab.lab.exec(from, 'iperf3', args, { timeoutMs: (seconds + 20) * 1000 })) as { end: { sum_received: { bits_per_second: number } } }
    return out.end.sum_received.bits_per_second / 1e6
  } finally {
    await stopChild(server, 2000)
  }
}

/** Four namespaces of its own in the bench lab, two gateways, the tunnel up (bounded: 30 s), iperf3 both ways. */
export async function ipsecSiteRows(lab: BenchLab, dir: string, seconds: number): Promise<IpsecSiteFigures> {
  const l = lab.lab
  const gwA = l.ns('gwa'), gwB = l.ns('gwb'), lanA = l.ns('lana'), lanB = l.ns('lanb')
  l.link(gwA, 'out0', '198.18.10.1/24', gwB, 'out0', '198.18.10.2/24')
  l.link(gwA, 'lan0', '198.18.11.1/24', lanA, 'eth0', `${HOST_A}/24`)
  l.link(gwB, 'lan0', '198.18.12.1/24', lanB, 'eth0', '198.18.12.2/24')
  ip('-n', lanA, 'route', 'add', LAN_B, 'via', '198.18.11.1')
  ip('-n', lanB, 'route', 'add', LAN_A, 'via', '198.18.12.1')
  const dA = join(dir, 'site-a'), dB = join(dir, 'site-b')
  initGateway(dA, '198.18.10.1', '198.19.11.0/24', '198.18.10.2', LAN_A, LAN_B, true)
  initGateway(dB, '198.18.10.2', '198.19.12.0/24', '198.18.10.1', LAN_B, LAN_A, false)
  const servers: ChildProcess[] = []
  try {
    let logA = ''
    const b = l.spawn(gwB, process.execPath, [BIN, 'serve', '--dir', dB]); servers.push(b)
    const a = l.spawn(gwA, process.execPath, [BIN, 'serve', '--dir', dA]); servers.push(a)
    a.stderr!.on('data', (d: Buffer) => { logA = (logA + d.toString()).slice(-20000) })
    b.stderr!.resume()
    await Promise.all([waitForLine(b, /gateway ready/, 20000, 'stderr'), waitForLine(a, /gateway ready/, 20000, 'stderr')])
    a.stdout!.resume(); b.stdout!.resume()
    const t0 = Date.now()
    while (!ping(lab, lanB, HOST_A)) {
      if (Date.now() - t0 > 30000) throw new Error(`the site-to-site tunnel did not come up in 30 s:\n${logA.slice(-3000)}`)
      await sleep(300)
    }
    const suite = /tunnel child SA up .*suite=(\S+)/.exec(logA)?.[1] ?? 'suite not logged'
    const rssA = rssMiB(a.pid!)
    const bToA = await iperf(lab, lanA, lanB, HOST_A, seconds, false)
    const aToB = await iperf(lab, lanA, lanB, HOST_A, seconds, true)
    return { suite, bToA, aToB, rssA }
  } finally {
    await Promise.all(servers.map((s) => stopChild(s, 8000)))
  }
}

/** The rows, next to the veth baseline measured in the same run. */
export function ipsecSiteTable(f: IpsecSiteFigures, veth: number, seconds: number): [string, string][] {
  const what = `IPsec site-to-site (PSK, ESP tunnel mode, raw ESP ${f.suite})`
  return [
    [`TCP through ${what}, LAN B -> LAN A, iperf3 ${seconds} s`, `${f.bToA.toFixed(0)} Mbit/s`],
    [`TCP through ${what}, LAN A -> LAN B, iperf3 -R ${seconds} s`, `${f.aToB.toFixed(0)} Mbit/s`],
    ['ratio IPsec site-to-site / veth (B -> A)', `${(f.bToA / veth).toFixed(3)}`],
    ['ratio IPsec site-to-site / veth (A -> B)', `${(f.aToB / veth).toFixed(3)}`],
    ['gateway RSS, 1 site-to-site tunnel (initiator)', `${f.rssA.toFixed(1)} MiB`],
  ]
}

/** Alone: `node dist/bench/ipsec-site.js [seconds]` (root, iperf3). */
if (process.argv[1]?.endsWith('ipsec-site.js')) {
  await runStandalone(async (lab, dir, seconds, veth) => ipsecSiteTable(await ipsecSiteRows(lab, dir, seconds), veth, seconds))
}

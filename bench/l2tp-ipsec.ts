// Bench rows for L2TP/IPsec (RFC 3193: L2TP over UDP 1701 in a transport-mode ESP SA, RFC 4303; IKEv1
// PSK main mode): TCP through `gatehouse connect l2tp://` to `gatehouse serve`, raw ESP (IP protocol 50)
// on the bench veth, then UDP-encapsulated ESP (RFC 3948) from a client behind a MASQUERADE NAT namespace.
import { execFileSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ip, stopChild, waitForLine } from '../src/transport/netns.js'
import { BIN, BenchLab, GATEWAY, PASSWORD, POOL, TUNNEL_GATEWAY, USER, rssMiB, runStandalone } from './tunnel-lab.js'

/** A 40-character key: `gatehouse init --psk-file` refuses fewer than 20. */
const PSK = 'bench-l2tp-ipsec-pre-shared-key-0123456789'
/** The NAT namespace's outer address (on a second veth into the gateway namespace) and its private side. */
const NAT_OUTER = '198.18.1.2'
const NAT_INNER = '198.18.2'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export interface L2tpIpsecFigures {
  readonly suite: string
  readonly natSuite: string
  readonly up: number
  readonly down: number
  readonly natUp: number
  readonly natDown: number
  readonly rss: number
}

/** A client of the bench gateway: its process and the ESP suite it reported ("AES-CBC-256/HMAC-SHA1-96"). */
interface Dialed { readonly c: ChildProcess; readonly suite: string; readonly natT: boolean }

/** `gatehouse connect l2tp:// --psk-file` in `ns`; resolves once it prints its address, with the suite from its progress lines. */
async function connect(lab: BenchLab, ns: string, pskFile: string): Promise<Dialed> {
  const c = lab.lab.spawn(ns, process.execPath, [BIN, 'connect', `l2tp://${GATEWAY}`, '--user', USER, '--psk-file', pskFile, '--split', POOL, '--no-dns'])
  let err = ''
  c.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-8000) })
  c.stdin!.end(`${PASSWORD}\n`)
  await waitForLine(c, /^address /, 40000).catch((e: Error) => { throw new Error(`${e.message}\n${err}`) })
  c.stdout!.resume()
  const m = /IPsec up: transport mode, ([^,\n]+)(, UDP-encapsulated)?/.exec(err)
  if (!m) throw new Error(`the client did not report its IPsec suite:\n${err}`)
  return { c, suite: m[1]!, natT: m[2] !== undefined }
}

/** TCP throughput in Mbit/s from namespace `from` to `to` in the gateway namespace (reverse: `to` sends). */
async function iperf(lab: BenchLab, from: string, to: string, seconds: number, reverse: boolean): Promise<number> {
  const server = lab.lab.spawn(lab.srv, 'iperf3', ['-s', '-1', '--forceflush'])
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

/**
 * A router namespace `nat` joined to the gateway namespace by a second veth (NAT_OUTER), masquerading for
 * one client namespace behind it: IKE sees the NAT in NAT-D (RFC 3947 §3.2) and floats to UDP 4500.
 */
function natClientNs(lab: BenchLab): string {
  const nat = lab.lab.ns('nat')
  const behind = lab.lab.ns('ncl')
  lab.lab.link(lab.srv, 'srvn0', '198.18.1.1/24', nat, 'natw0', `${NAT_OUTER}/24`)
  lab.lab.link(nat, 'natl0', `${NAT_INNER}.1/24`, behind, 'ncl0', `${NAT_INNER}.2/24`)
  ip('-n', behind, 'route', 'add', `${GATEWAY}/32`, 'via', `${NAT_INNER}.1`)
  ip('-n', nat, 'route', 'add', `${GATEWAY}/32`, 'via', '198.18.1.1')
  lab.lab.exec(nat, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1'])
  lab.lab.exec(nat, 'iptables', ['-t', 'nat', '-A', 'POSTROUTING', '-o', 'natw0', '-j', 'MASQUERADE'])
  return behind
}

/**
 * One gateway (`--protocols sstp,l2tp --psk-file`, PSK main mode), a client on the veth (raw ESP) and then
 * one behind the NAT (ESP in UDP 4500): iperf3 both ways for each. `nodeArgs` go to the gateway (--cpu-prof).
 */
export async function l2tpIpsecRows(lab: BenchLab, dir: string, seconds: number, nodeArgs: readonly string[] = []): Promise<L2tpIpsecFigures> {
  const gwDir = join(dir, 'gw-l2tp')
  const pskFile = join(dir, 'l2tp.psk')
  writeFileSync(pskFile, `${PSK}\n`, { mode: 0o600 })
  execFileSync(process.execPath, [BIN, 'init', '--dir', gwDir, '--listen', GATEWAY, '--pool', POOL, '--protocols', 'sstp,l2tp', '--psk-file', pskFile], { stdio: 'ignore' })
  execFileSync(process.execPath, [BIN, 'user', 'add', '--dir', gwDir, USER], { input: `${PASSWORD}\n`, stdio: ['pipe', 'ignore', 'inherit'] })
  const server = await lab.startGateway(gwDir, nodeArgs)
  try {
    const direct = await connect(lab, lab.cli, pskFile)
    if (direct.natT) throw new Error('the direct client used NAT-T: the raw-ESP row would measure the wrong path')
    const rss = rssMiB(server.pid!)
    const up = await iperf(lab, lab.cli, TUNNEL_GATEWAY, seconds, false)
    const down = await iperf(lab, lab.cli, TUNNEL_GATEWAY, seconds, true)
    await stopChild(direct.c, 5000, 'SIGINT')

    const behind = natClientNs(lab)
    const natted = await connect(lab, behind, pskFile)
    if (!natted.natT) throw new Error('the client behind the NAT did not use UDP-encapsulated ESP')
    const natUp = await iperf(lab, behind, TUNNEL_GATEWAY, seconds, false)
    const natDown = await iperf(lab, behind, TUNNEL_GATEWAY, seconds, true)
    await stopChild(natted.c, 5000, 'SIGINT')
    return { suite: direct.suite, natSuite: natted.suite, up, down, natUp, natDown, rss }
  } finally {
    await stopChild(server, 8000, 'SIGINT') // SIGINT: node writes a --cpu-prof profile on a clean exit
  }
}

/** The rows, next to the veth baseline measured in the same run. */
export function l2tpIpsecTable(f: L2tpIpsecFigures, veth: number, seconds: number): [string, string][] {
  const esp = `PSK, raw ESP ${f.suite}`
  const nat = `PSK, NAT, ESP-in-UDP ${f.natSuite}`
  return [
    [`TCP through L2TP/IPsec (${esp}), client -> gateway, iperf3 ${seconds} s`, `${f.up.toFixed(0)} Mbit/s`],
    [`TCP through L2TP/IPsec (${esp}), gateway -> client, iperf3 -R ${seconds} s`, `${f.down.toFixed(0)} Mbit/s`],
    ['ratio L2TP/IPsec raw ESP / veth (client -> gateway)', `${(f.up / veth).toFixed(3)}`],
    ['ratio L2TP/IPsec raw ESP / veth (gateway -> client)', `${(f.down / veth).toFixed(3)}`],
    [`TCP through L2TP/IPsec (${nat}), client -> gateway, iperf3 ${seconds} s`, `${f.natUp.toFixed(0)} Mbit/s`],
    [`TCP through L2TP/IPsec (${nat}), gateway -> client, iperf3 -R ${seconds} s`, `${f.natDown.toFixed(0)} Mbit/s`],
    ['ratio L2TP/IPsec NAT-T / veth (client -> gateway)', `${(f.natUp / veth).toFixed(3)}`],
    ['ratio L2TP/IPsec NAT-T / veth (gateway -> client)', `${(f.natDown / veth).toFixed(3)}`],
    ['gateway RSS, 1 L2TP/IPsec session', `${f.rss.toFixed(1)} MiB`],
  ]
}

/** Alone: `node dist/bench/l2tp-ipsec.js [seconds]` (root, iperf3); BENCH_CPU_PROF=DIR profiles the gateway. */
if (process.argv[1]?.endsWith('l2tp-ipsec.js')) {
  const prof = process.env.BENCH_CPU_PROF
  await runStandalone(async (lab, dir, seconds, veth) => l2tpIpsecTable(await l2tpIpsecRows(lab, dir, seconds, prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : []), veth, seconds))
}

// `gatehouse demo`: builds two network namespaces joined by a veth pair, runs `gatehouse serve` in
// one and `gatehouse connect` in the other, shows ping both ways and a checksummed transfer through
// the SSTP tunnel, prints a table, and removes everything it made. Needs root (namespaces, TUN).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { systemRng } from '../crypto/rng.js'
import { toHex } from '../lib/bytes.js'
import { execFileSync } from 'node:child_process'
import { parse } from './args.js'
import { NetnsLab, waitForLine, stopChild } from '../transport/netns.js'
import { VpnError } from '../lib/errors.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const BIN = resolve(HERE, '../../../bin/gatehouse.js')
const TRANSFER = resolve(HERE, '../tools/transfer.js')

export async function runDemo(args: string[]): Promise<number> {
  const { values } = parse(args, { bytes: { type: 'string' }, keep: { type: 'boolean' } })
  if (process.getuid?.() !== 0) throw new VpnError('ERR_NOT_ROOT', 'the demo creates network namespaces and TUN devices: run it as root (sudo)')
  try { execFileSync('ip', ['-V'], { stdio: 'ignore' }) } catch { throw new VpnError('ERR_MISSING_TOOL', 'the demo needs iproute2 (`ip`): apt-get install iproute2') }
  try { execFileSync('ping', ['-V'], { stdio: 'ignore' }) } catch { throw new VpnError('ERR_MISSING_TOOL', 'the demo needs ping: apt-get install iputils-ping') }
  const bytes = Number(values.bytes ?? 20 * 1024 * 1024)
  const say = (s: string): void => { process.stdout.write(`demo: ${s}\n`) }
  const lab = new NetnsLab(`ghd${process.pid % 10000}_`)
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-demo-'))
  const rows: [string, string][] = []
  const onSignal = (): void => { void lab.cleanup().then(() => { rmSync(dir, { recursive: true, force: true }); process.exit(130) }) }
  process.once('SIGINT', onSignal)
  try {
    const srv = lab.ns('srv')
    const cli = lab.ns('cli')
    lab.link(srv, 'srv0', '198.18.0.1/24', cli, 'cli0', '198.18.0.2/24')
    say(`namespaces ${srv} (gateway, 198.18.0.1) and ${cli} (client, 198.18.0.2) joined by a veth pair`)
    const gwDir = join(dir, 'gw')
    execFileSync(process.execPath, [BIN, 'init', '--dir', gwDir, '--listen', '198.18.0.1', '--pool', '198.19.0.0/24', '--dns', '198.19.0.1'], { stdio: 'ignore' })
    const password = `Gh-${toHex(systemRng.bytes(12))}-Z9`
    execFileSync(process.execPath, [BIN, 'user', 'add', '--dir', gwDir, 'demo'], { input: `${password}\n`, stdio: ['pipe', 'ignore', 'inherit'] })
    say(`gateway directory ${gwDir}: CA, server certificate for 198.18.0.1, user "demo"`)

    const server = lab.spawn(srv, process.execPath, [BIN, 'serve', '--dir', gwDir])
    await waitForLine(server, /gateway ready/, 20000, 'stderr')
    say('gateway running (SSTP on 198.18.0.1:443, pool 198.19.0.0/24)')

    const t0 = Date.now()
    const client = lab.spawn(cli, process.execPath, [BIN, 'connect', 'sstp://198.18.0.1', '--user', 'demo', '--ca', join(gwDir, 'ca.pem'), '--split', '198.19.0.0/24'])
    client.stdin!.end(`${password}\n`)
    const m = await waitForLine(client, /^address (\S+)/, 30000)
    const address = m[1]!
    rows.push(['tunnel up (TLS + SSTP + PPP + MS-CHAPv2 + IPCP)', `${Date.now() - t0} ms`], ['client address', address])
    say(`client connected: address ${address}`)

    const ping = (ns: string, to: string): string => {
      const out = lab.exec(ns, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', to])
      const loss = /(\d+)% packet loss/.exec(out)?.[1] ?? '?'
      const rtt = /= [\d.]+\/([\d.]+)\//.exec(out)?.[1] ?? '?'
      return `${100 - Number(loss)}% replies, avg ${rtt} ms`
    }
    rows.push(['ping client -> gateway 198.19.0.1', ping(cli, '198.19.0.1')])
    rows.push([`ping gateway -> client ${address}`, ping(srv, address)])

    const recv = lab.spawn(srv, process.execPath, [TRANSFER, 'recv', '198.19.0.1', '5001'])
    await waitForLine(recv, /listening/, 10000)
    const sent = JSON.parse(lab.exec(cli, process.execPath, [TRANSFER, 'send', '198.19.0.1', '5001', String(bytes)], { timeoutMs: 120000 })) as { bytes: number; sha256: string; ms: number; receiver: { bytes: number; sha256: string } }
    const intact = sent.receiver.sha256 === sent.sha256 && sent.receiver.bytes === sent.bytes
    rows.push([`TCP transfer ${(bytes / 1048576).toFixed(0)} MiB through the tunnel`, `${intact ? 'intact (SHA-256 match)' : 'CORRUPTED'}, ${(sent.bytes * 8 / sent.ms / 1000).toFixed(1)} Mbit/s`])

    const live = execFileSync('ip', ['netns', 'exec', srv, process.execPath, BIN, 'sessions', '--dir', gwDir], { encoding: 'utf8' })
    process.stdout.write(`\n$ gatehouse sessions --dir ${gwDir}\n${live}\n`)

    await stopChild(client, 5000, 'SIGINT')
    await new Promise((r) => setTimeout(r, 300))
    const hist = execFileSync('ip', ['netns', 'exec', srv, process.execPath, BIN, 'sessions', '--dir', gwDir, '--history'], { encoding: 'utf8' })
    process.stdout.write(`$ gatehouse sessions --dir ${gwDir} --history\n${hist}\n`)
    const code = await stopChild(server, 5000)
    rows.push(['gateway stopped cleanly', code === 0 ? 'yes (exit 0)' : `no (exit ${code})`])

    const w = Math.max(...rows.map((r) => r[0].length))
    process.stdout.write(`${'check'.padEnd(w)}  result\n${'-'.repeat(w)}  ------\n${rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')}\n\n`)
    return intact ? 0 : 1
  } finally {
    process.off('SIGINT', onSignal)
    if (!values.keep) {
      await lab.cleanup()
      rmSync(dir, { recursive: true, force: true })
      say('removed the namespaces and the temporary directory')
    } else {
      lab.keep()
      say(`--keep: left namespaces ${lab.prefix}* and ${dir}`)
    }
  }
}

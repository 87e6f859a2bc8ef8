// `npm run bench`: TCP throughput through the SSTP, PPTP, L2TP/IPsec and IPsec site-to-site tunnels next
// to the bare veth pair (iperf3, 5 s each, same run), the gateway's RSS with 1 and 100 SSTP sessions and
// with 1 PPTP, 1 L2TP/IPsec session and 1 tunnel, and IKEv1 SAs per second in process. Needs root,
// iproute2, iperf3, iptables. Bounded: 11 x 5 s of iperf3, then 9 IKE rows of at most 2 s (or
// ike-rate.ts's MAX_COUNT SAs) each.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { stopChild, waitForLine } from '../src/transport/netns.js'
import { BenchLab, GATEWAY, PASSWORD, TUNNEL_GATEWAY, USER, rssMiB } from './tunnel-lab.js'
import { l2tpIpsecRows, l2tpIpsecTable } from './l2tp-ipsec.js'
import { ikeRateRows } from './ike-rate.js'
import { ipsecSiteRows, ipsecSiteTable } from './ipsec-site.js'

const LOAD = join(resolve(import.meta.dirname, '../..'), 'dist/src/tools/load-clients.js')
const SECONDS = 5
/** BENCH_CPU_PROF=DIR: the PPTP gateway runs under node --cpu-prof and writes its profile there. */
const CPU_PROF = process.env.BENCH_CPU_PROF

async function main(): Promise<void> {
  const lab = new BenchLab(`ghb${process.pid % 10000}_`)
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'))
  try {
    const veth = await lab.iperf(GATEWAY, SECONDS)

    // SSTP: one gateway process for the SSTP rows (its RSS is not shared with the PPTP run).
    const sstpDir = join(dir, 'gw-sstp')
    lab.initGateway(sstpDir, ['sstp'])
    let server = await lab.startGateway(sstpDir)
    const client = await lab.connect(`sstp://${GATEWAY}`, ['--ca', join(sstpDir, 'ca.pem')])
    const rss1 = rssMiB(server.pid!)
    const sstp = await lab.iperf(TUNNEL_GATEWAY, SECONDS)
    const sstpDown = await lab.iperf(TUNNEL_GATEWAY, SECONDS, true)
    const load = lab.lab.spawn(lab.cli, process.execPath, [LOAD, GATEWAY, '443', USER, '99'])
    load.stdin!.end(`${PASSWORD}\n`)
    const [, upCount] = await waitForLine(load, /^up (\d+)/, 120000)
    await new Promise((r) => setTimeout(r, 1000))
    const rss100 = rssMiB(server.pid!)
    await stopChild(load, 5000)
    await stopChild(client, 5000, 'SIGINT')
    await stopChild(server, 8000)

    // PPTP: a fresh gateway, configured as the README says (`--protocols sstp,pptp`), one session.
    const pptpDir = join(dir, 'gw-pptp')
    lab.initGateway(pptpDir, ['sstp', 'pptp'])
    server = await lab.startGateway(pptpDir, CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : [])
    const pptpClient = await lab.connect(`pptp://${GATEWAY}`)
    const rssPptp = rssMiB(server.pid!)
    const pptp = await lab.iperf(TUNNEL_GATEWAY, SECONDS)
    const pptpDown = await lab.iperf(TUNNEL_GATEWAY, SECONDS, true)
    await stopChild(pptpClient, 5000, 'SIGINT')
    await stopChild(server, 8000, 'SIGINT') // SIGINT: node writes the --cpu-prof profile on a clean exit

    // L2TP/IPsec: a fresh gateway with a pre-shared key; raw ESP, then ESP in UDP 4500 through a NAT.
    const l2tp = await l2tpIpsecRows(lab, dir, SECONDS)
    // IPsec site-to-site: two more gateways with LAN namespaces, one PSK tunnel-mode tunnel.
    const site = await ipsecSiteRows(lab, dir, SECONDS)
    const ike = ikeRateRows(2000)

    const rows: [string, string][] = [
      [`TCP through veth (baseline), iperf3 ${SECONDS} s`, `${veth.toFixed(0)} Mbit/s`],
      [`TCP through SSTP tunnel, client -> gateway, iperf3 ${SECONDS} s`, `${sstp.toFixed(0)} Mbit/s`],
      [`TCP through SSTP tunnel, gateway -> client, iperf3 -R ${SECONDS} s`, `${sstpDown.toFixed(0)} Mbit/s`],
      ['ratio SSTP / veth (client -> gateway)', `${(sstp / veth).toFixed(3)}`],
      ['ratio SSTP / veth (gateway -> client)', `${(sstpDown / veth).toFixed(3)}`],
      ['gateway RSS, 1 session', `${rss1.toFixed(1)} MiB`],
      [`gateway RSS, ${Number(upCount) + 1} sessions`, `${rss100.toFixed(1)} MiB`],
      ['RSS per extra session', `${(((rss100 - rss1) * 1024) / Math.max(1, Number(upCount))).toFixed(0)} KiB`],
      [`TCP through PPTP tunnel (MPPE-128), client -> gateway, iperf3 ${SECONDS} s`, `${pptp.toFixed(0)} Mbit/s`],
      [`TCP through PPTP tunnel (MPPE-128), gateway -> client, iperf3 -R ${SECONDS} s`, `${pptpDown.toFixed(0)} Mbit/s`],
      ['ratio PPTP / veth (client -> gateway)', `${(pptp / veth).toFixed(3)}`],
      ['ratio PPTP / veth (gateway -> client)', `${(pptpDown / veth).toFixed(3)}`],
      ['gateway RSS, 1 PPTP session', `${rssPptp.toFixed(1)} MiB`],
      ...l2tpIpsecTable(l2tp, veth, SECONDS),
      ...ipsecSiteTable(site, veth, SECONDS),
      ...ike,
    ]
    const w = Math.max(...rows.map((r) => r[0].length))
    process.stdout.write(rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n')
  } finally {
    await lab.cleanup()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()

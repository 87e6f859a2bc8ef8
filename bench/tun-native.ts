// Micro-benchmark of the TUN boundary, run as root: packets/s read from a TUN by the native
// batching reader vs a naive fs.read loop on the fd (libuv threadpool), and packets/s written by
// native write / writeMany / fs.writeSync. Everything happens inside a throw-away network namespace:
// a blaster process writes UDP packets into TUN A, the kernel forwards them to TUN B, we read B.
//   node dist/bench/tun-native.js [seconds]   (offered load: 50k packets/s, then a flood)
// Measured 2026-11-27, 2 vCPU AMD EPYC VM, Node 20.20, Linux 6.18, 92-byte packets, 3 runs:
//   read @50k offered: native 49.8-50.0k/s (0-0.4% loss, ~9 packets/batch), fs.read 29-37k/s
//   read flood (~200-300k offered): native 99-123k/s, fs.read x1 9-27k/s, fs.read x4 10-49k/s
//   write: native write 170-380k/s, writeMany 190-400k/s, fs.writeSync 200-390k/s — bound by the
//   kernel forwarding done inside write(2); no per-call difference is visible at this size.
import { spawn } from 'node:child_process'
import { read, readFileSync, writeSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { loadNative, splitBatch } from '../src/native/index.js'
import { addAddress, linkUp, setForwarding } from '../src/transport/netcfg.js'
import { NetnsLab } from '../src/transport/netns.js'

const SELF = fileURLToPath(import.meta.url)
const PAYLOAD = 64 // UDP payload bytes: a 92-byte IP packet, so per-packet cost dominates

function udpPacket(): Uint8Array {
  const p = new Uint8Array(20 + 8 + PAYLOAD)
  p.set([0x45, 0, 0, p.length, 0, 1, 0, 0, 64, 17, 0, 0, 198, 19, 10, 2, 198, 19, 20, 2])
  let s = 0
  for (let i = 0; i < 20; i += 2) s += (p[i]! << 8) | p[i + 1]!
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16)
  p[10] = (~s >> 8) & 0xff; p[11] = ~s & 0xff
  p.set([0x03, 0xe8, 0x00, 0x09, 0, 8 + PAYLOAD, 0, 0], 20) // UDP checksum 0: none (RFC 768)
  return p
}

async function setupPair(blockingB: boolean): Promise<{ a: number; b: number }> {
  const n = loadNative()
  await setForwarding(true) // this namespace only
  writeFileSync('/proc/sys/net/ipv4/conf/all/rp_filter', '0\n')
  const a = n.openTun('gha0')
  const b = n.openTun('ghb0', blockingB)
  await linkUp('gha0', 1500); await addAddress('gha0', '198.19.10.1/24')
  await linkUp('ghb0', 1500); await addAddress('ghb0', '198.19.20.1/24')
  return { a: a.fd, b: b.fd }
}

/** Child: writes batches into fd 3 (TUN A, inherited) for `ms`, prints the count. */
function blast(ms: number, pps: number): void {
  const n = loadNative()
  const batch = Array.from({ length: 64 }, udpPacket)
  const nap = new Int32Array(new SharedArrayBuffer(4))
  let sent = 0
  const start = Date.now(), end = start + ms
  for (let now = start; now < end; now = Date.now()) {
    // Offered load: stay at `pps` (0 = as fast as the writer and the kernel's forwarding go).
    if (pps > 0 && sent > (pps * (now - start)) / 1000) { Atomics.wait(nap, 0, 0, 1); continue }
    sent += n.writeMany(3, batch)
  }
  process.stdout.write(JSON.stringify({ sent, ms }) + '\n')
}

/** Child: reads TUN B with `method` while a blaster writes into A; prints the figures. */
async function readBench(method: string, ms: number, pps: number): Promise<void> {
  const n = loadNative()
  const { a, b } = await setupPair(method !== 'native')
  let received = 0, batches = 0
  let thread: (() => unknown) | undefined
  if (method === 'native') {
    const h = n.startReader(b, (err, data, lengths) => {
      if (err || !data || !lengths) return
      const pk = splitBatch(data, lengths)
      received += pk.length; batches++
    })
    thread = () => n.readerStats(h)
  } else {
    const inflight = method === 'fs.read x4' ? 4 : 1
    for (let i = 0; i < inflight; i++) {
      const buf = Buffer.alloc(65535)
      const loop = (): void => read(b, buf, 0, buf.length, null, (err) => { if (err) return; received++; batches++; loop() })
      loop()
    }
  }
  const child = spawn(process.execPath, [SELF, 'blast', String(ms), String(pps)], { stdio: ['ignore', 'pipe', 'inherit', a] })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  await new Promise((r) => child.once('exit', r))
  await new Promise((r) => setTimeout(r, 200)) // drain what is queued
  const { sent } = JSON.parse(out) as { sent: number }
  const stat = (dev: string, k: string): number => Number(readFileSync(`/sys/class/net/${dev}/statistics/${k}`, 'utf8'))
  const kernel = { aRx: stat('gha0', 'rx_packets'), aRxDrop: stat('gha0', 'rx_dropped'), bTx: stat('ghb0', 'tx_packets'), bTxDrop: stat('ghb0', 'tx_dropped') }
  process.stdout.write(JSON.stringify({ method, sent, received, sentPps: Math.round(sent / (ms / 1000)), readPps: Math.round(received / (ms / 1000)), avgBatch: +(received / Math.max(1, batches)).toFixed(1), kernel, thread: thread?.() }) + '\n')
  // Blocked fs.read threads never return and would hold process.exit(); the kernel closes both TUNs.
  process.kill(process.pid, 'SIGKILL')
}

/** Child: writes into TUN A (forwarded to B, unread) for `ms` with `method`; prints packets/s. */
async function writeBench(method: string, ms: number): Promise<void> {
  const n = loadNative()
  const { a } = await setupPair(false)
  const batch = Array.from({ length: 64 }, udpPacket)
  const one = batch[0]!
  let sent = 0
  const end = Date.now() + ms
  if (method === 'native write') while (Date.now() < end) { for (let i = 0; i < 64; i++) if (n.write(a, one)) sent++ }
  else if (method === 'native writeMany(64)') while (Date.now() < end) sent += n.writeMany(a, batch)
  else while (Date.now() < end) { for (let i = 0; i < 64; i++) { writeSync(a, one); sent++ } }
  process.stdout.write(JSON.stringify({ method, pps: Math.round(sent / (ms / 1000)) }) + '\n')
  process.exit(0)
}

async function outer(seconds: number): Promise<void> {
  const lab = new NetnsLab(`ghn${process.pid.toString(36)}_`)
  try {
    const ns = lab.ns('tun')
    const ms = seconds * 1000
    for (const pps of [50_000, 0]) {
      for (const m of ['native', 'fs.read x1', 'fs.read x4']) {
        // The reader kills itself (blocked fs.read threads), so its exit status is not checked.
        const r = await lab.execAsync(ns, process.execPath, [SELF, 'read', m, String(ms), String(pps)], { timeoutMs: ms + 20_000, check: false })
        console.log(`read  offered=${pps || 'flood'}`, r.stdout.trim())
      }
    }
    for (const m of ['native write', 'native writeMany(64)', 'fs.writeSync']) {
      const r = await lab.execAsync(ns, process.execPath, [SELF, 'write', m, String(ms)], { timeoutMs: ms + 20_000 })
      console.log('write', r.stdout.trim())
    }
  } finally {
    await lab.cleanup()
  }
}

const [cmd, arg1, arg2, arg3] = process.argv.slice(2)
if (cmd === 'blast') blast(Number(arg1), Number(arg2))
else if (cmd === 'read') await readBench(arg1!, Number(arg2), Number(arg3 ?? 0))
else if (cmd === 'write') await writeBench(arg1!, Number(arg2))
else await outer(Number(cmd ?? 2))

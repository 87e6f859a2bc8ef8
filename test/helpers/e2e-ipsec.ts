// Probes for the L2TP/IPsec end-to-end tests that put hostile or replayed IPsec bytes on the wire from
// inside a lab namespace: UDP datagrams (ISAKMP on 500, Non-ESP-marked on 4500, ESP in UDP), raw IP
// protocol 50, a copy of an ESP packet seen on the wire, and a flood of main mode 1 messages (RFC 2409 §5).
import { join } from 'node:path'
import type { NetnsLab } from '../../src/transport/netns.js'
import { ROOT } from './e2e-gateway.js'

const RAW_IP = join(ROOT, 'dist/src/transport/raw-ip.js')
const IKE_ENDPOINT = join(ROOT, 'dist/src/ike/v1/endpoint.js')
const RNG = join(ROOT, 'dist/src/crypto/rng.js')

/**
 * Sends UDP datagrams (hex strings) from namespace `ns` to dest:port, all from one socket (source port
 * `sourcePort`, default ephemeral), then waits `listenMs` and returns how many datagrams came back.
 */
export async function sendUdp(lab: NetnsLab, ns: string, dest: string, port: number, packetsHex: readonly string[], o: { sourcePort?: number; listenMs?: number } = {}): Promise<number> {
  const script = `import dgram from 'node:dgram'
const s = dgram.createSocket('udp4')
let answers = 0
s.on('message', () => { answers++ })
s.on('error', () => {})
s.bind(${o.sourcePort ?? 0}, () => {
  for (const h of process.argv.slice(1)) s.send(Buffer.from(h, 'hex'), ${port}, ${JSON.stringify(dest)})
  setTimeout(() => { process.stdout.write(String(answers)); s.close() }, ${o.listenMs ?? 300})
})`
  const out = await lab.execAsync(ns, process.execPath, ['--input-type=module', '-e', script, ...packetsHex], { timeoutMs: (o.listenMs ?? 300) + 10000 })
  return Number(out.stdout.trim())
}

/** Sends raw IP datagrams of `protocol` (hex: the bytes after the IPv4 header, which the kernel writes) from `ns` to `dest`. */
export function sendRawIp(lab: NetnsLab, ns: string, protocol: number, dest: string, packetsHex: readonly string[]): void {
  const script = `import { RawIpSocket } from ${JSON.stringify(RAW_IP)}
const s = RawIpSocket.open({ protocol: ${protocol} })
for (const h of process.argv.slice(1)) s.send(${JSON.stringify(dest)}, Uint8Array.from(Buffer.from(h, 'hex')))
s.close()`
  lab.exec(ns, process.execPath, ['--input-type=module', '-e', script, ...packetsHex])
}

/**
 * Starts reading IP protocol `protocol` in namespace `ns` (a raw socket gets a copy of every such datagram
 * arriving there) and resolves, once ready, with a function that waits for the first datagram from `from`
 * that `match` (a JS expression over `b`, the bytes after the IPv4 header) accepts; it yields that
 * datagram's hex, or undefined when none came within `timeoutMs`. Start it before the traffic it is to see.
 */
export async function captureIp(lab: NetnsLab, ns: string, protocol: number, from: string, match: string, timeoutMs = 8000): Promise<() => Promise<string | undefined>> {
  const script = `import { RawIpSocket } from ${JSON.stringify(RAW_IP)}
const s = RawIpSocket.open({ protocol: ${protocol}, recvBufferBytes: 1 << 20 })
setTimeout(() => { process.stderr.write('nothing matching seen'); process.exit(3) }, ${timeoutMs})
process.stdout.write('ready\\n')
s.onPackets((batch) => {
  for (const p of batch) {
    const b = p.payload
    if (p.from !== ${JSON.stringify(from)} || !(${match})) continue
    process.stdout.write(Buffer.from(b).toString('hex') + '\\n')
    process.exit(0)
  }
})`
  const c = lab.spawn(ns, process.execPath, ['--input-type=module', '-e', script])
  let out = ''
  let err = ''
  c.stderr!.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<number | null>((r) => c.on('exit', r))
  await new Promise<void>((resolve, reject) => {
    c.stdout!.on('data', (d: Buffer) => { out += d.toString(); if (out.startsWith('ready\n')) resolve() })
    void exited.then((code) => reject(new Error(`capture exited ${code} before it was ready: ${err}`)))
  })
  return async () => {
    const code = await exited
    if (code === 3) return undefined
    if (code !== 0) throw new Error(`capture of protocol ${protocol} from ${from} failed (${code}): ${err}`)
    return out.slice('ready\n'.length).trim()
  }
}

/**
 * Sends `count` main mode 1 messages (our own IKEv1 initiator, each with a fresh random initiator cookie:
 * one half-open SA each at the responder) from one UDP socket in `ns` to dest:500; waits `listenMs` and
 * returns how many distinct responder SAs answered (main mode 2 with distinct initiator cookies).
 */
export async function floodMainMode1(lab: NetnsLab, ns: string, local: string, dest: string, count: number, listenMs = 1500): Promise<number> {
  const script = `import dgram from 'node:dgram'
import { IkeV1Endpoint } from ${JSON.stringify(IKE_ENDPOINT)}
import { systemRng } from ${JSON.stringify(RNG)}
const s = dgram.createSocket('udp4')
const answered = new Set()
s.on('message', (m) => { if (m.length >= 28 && m[18] === 2) answered.add(m.subarray(0, 8).toString('hex')) })
s.bind(0, ${JSON.stringify(local)}, () => {
  const ike = new IkeV1Endpoint({ local: { address: ${JSON.stringify(local)}, port: s.address().port }, rng: systemRng, psk: () => new TextEncoder().encode('not-the-key-0123456789') })
  for (let i = 0; i < ${count}; i++) ike.connect(0, { address: ${JSON.stringify(dest)}, port: 500 })
  for (let t; (t = ike.pollTransmit());) s.send(t.data, t.to.port, t.to.address)
  setTimeout(() => { process.stdout.write(String(answered.size)); s.close() }, ${listenMs})
})`
  const out = await lab.execAsync(ns, process.execPath, ['--input-type=module', '-e', script], { timeoutMs: listenMs + 10000 })
  return Number(out.stdout.trim())
}

// End to end through raw IPv4 protocol-47 sockets (raw(7)) in two network namespaces joined by a
// veth pair: a child node process in each (this file, GH_RAW_CHILD set, under `ip netns exec`)
// opens RawIpSocket; enhanced GRE packets (RFC 2637 §4.1) go one way and back, singly and batched;
// bytes and source addresses are checked; both close cleanly.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { JsonLines, waitFor } from '../../src/transport/netns.js'
import { useNetnsLab } from '../helpers/netns.js'

const A = '198.18.47.1'
const B = '198.18.47.2'

async function child(): Promise<void> {
  const { RawIpSocket } = await import('../../src/transport/raw-ip.js')
  const say = (o: Record<string, unknown>): void => { process.stdout.write(JSON.stringify(o) + '\n') }
  const sock = RawIpSocket.open({ protocol: 47, bindAddress: process.env.GH_RAW_LOCAL })
  sock.onPackets((batch) => say({ event: 'rx', packets: batch.map((p) => ({ from: p.from, hex: Buffer.from(p.payload).toString('hex') })) }))
  let sendError: { code?: string; message?: string } = {}
  try { sock.send('198.18.99.99', new Uint8Array([0x20, 0x81, 0x88, 0x0b, 0, 0, 0, 1, 0, 0, 0, 0])) } catch (e) { sendError = { code: (e as { code?: string }).code, message: (e as Error).message } }
  say({ event: 'ready', sendError })
  process.stdin.setEncoding('utf8')
  let buf = ''
  process.stdin.on('data', (chunk: string) => {
    buf += chunk
    for (let i; (i = buf.indexOf('\n')) >= 0;) {
      const cmd = JSON.parse(buf.slice(0, i)) as { cmd: string; dest?: string; hex?: string[] }
      buf = buf.slice(i + 1)
      if (cmd.cmd === 'send') for (const h of cmd.hex ?? []) sock.send(cmd.dest!, Buffer.from(h, 'hex'))
      if (cmd.cmd === 'sendMany') sock.sendMany((cmd.hex ?? []).map((h) => ({ dest: cmd.dest!, payload: Buffer.from(h, 'hex') })))
      if (cmd.cmd === 'close') {
        sock.close()
        say({ event: 'closed', isOpen: sock.isOpen, counters: sock.counters.snapshot() })
        process.stdin.destroy()
      }
    }
  })
}

/**
 * Child mode 'gre': GreCalls over a real raw socket. Role 'reflector' (B): a GreDemux with calls 1
 * and 2 of peer A echoes every frame back on its call. Role 'sender' (A): two calls send 100 frames
 * each, with neighbours swapped and some packets repeated on the wire, plus one packet for an
 * unknown call id; it reports the echoes it got back, in order.
 */
async function greChild(): Promise<void> {
  const { RawIpSocket } = await import('../../src/transport/raw-ip.js')
  const { GreCall } = await import('../../src/pptp/gre/call.js')
  const { GreDemux } = await import('../../src/pptp/gre/demux.js')
  const say = (o: Record<string, unknown>): void => { process.stdout.write(JSON.stringify(o) + '\n') }
  const local = process.env.GH_RAW_LOCAL!, peer = process.env.GH_RAW_PEER!
  const reflector = process.env.GH_RAW_ROLE === 'reflector'
  const sock = RawIpSocket.open({ protocol: 47, bindAddress: local })
  const demux = new GreDemux()
  // The reflector's call k answers the sender's call k: local ids 1,2 <-> 11,12.
  const calls = [1, 2].map((k) => new GreCall(reflector ? { localCallId: k, peerCallId: 10 + k, peerReceiveWindow: 64 } : { localCallId: 10 + k, peerCallId: k, peerReceiveWindow: 64 }))
  for (const c of calls) demux.add(peer, c)
  const echoes: number[][] = [[], []]
  let timer: NodeJS.Timeout | undefined
  const pump = (): void => {
    const now = Date.now()
    for (const [i, c] of calls.entries()) {
      c.handleTimeout(now)
      for (let f; (f = c.pollFrame());) {
        if (reflector) sock.send(peer, c.sendFrame(f))
        else echoes[i]!.push(f[4]!)
      }
      for (let p; (p = c.pollTransmit());) sock.send(peer, p)
    }
    const next = Math.min(...calls.map((c) => c.nextTimeout() ?? Infinity))
    clearTimeout(timer)
    if (next !== Infinity) timer = setTimeout(pump, Math.max(0, next - Date.now()))
  }
  sock.onPackets((batch) => { for (const p of batch) demux.handlePacket(Date.now(), p.from, p.payload); pump() })
  say({ event: 'ready' })
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', (cmd: string) => {
    if (cmd.includes('go') && !reflector) {
      for (const c of calls) {
        const wire = Array.from({ length: 100 }, (_, n) => c.sendFrame(new Uint8Array([0xff, 0x03, 0x00, 0x21, n])))
        for (let n = 2; n + 1 < wire.length; n += 10) [wire[n], wire[n + 1]] = [wire[n + 1]!, wire[n]!] // swap neighbours (not the first: it fixes the base)
        for (let n = 0; n < wire.length; n++) { sock.send(peer, wire[n]!); if (n % 25 === 5) sock.send(peer, wire[n]!) }
      }
      sock.send(peer, new Uint8Array([0x30, 0x01, 0x88, 0x0b, 0, 1, 0, 99, 0, 0, 0, 0, 0x7e])) // unknown call id 99
    }
    if (cmd.includes('report')) say({ event: 'report', echoes, demux: demux.counters(), calls: calls.map((c) => c.counters()) })
    if (cmd.includes('close')) { clearTimeout(timer); for (const c of calls) c.close(); sock.close(); process.stdin.destroy() }
  })
}

async function nocapChild(): Promise<void> {
  const { RawIpSocket } = await import('../../src/transport/raw-ip.js')
  let r: { code?: string; message?: string } = {}
  try { RawIpSocket.open({ protocol: 47 }).close() } catch (e) { r = { code: (e as { code?: string }).code, message: (e as Error).message } }
  process.stdout.write(JSON.stringify({ event: 'result', ...r }) + '\n')
}

if (process.env.GH_RAW_CHILD === '1') {
  await child()
} else if (process.env.GH_RAW_CHILD === 'nocap') {
  await nocapChild()
} else if (process.env.GH_RAW_CHILD === 'gre') {
  await greChild()
} else {
  const { encodeGre, decodeGre } = await import('../../src/pptp/gre/packet.js')
  const lab = useNetnsLab()
  const self = fileURLToPath(import.meta.url)
  const gre = (callId: number, seq: number, ack: number | undefined, len: number): string =>
    Buffer.from(encodeGre({ callId, sequenceNumber: seq, acknowledgmentNumber: ack, payload: Uint8Array.from({ length: len }, (_, i) => (i === 0 ? 0xff : i === 1 ? 0x03 : (seq + i) & 0xff)) })).toString('hex')

  type Rx = { from: string; hex: string }
  const consumed = new WeakMap<JsonLines, number>()
  /** The next `n` packets a child reported (JsonLines.next does not consume, so count what was taken). */
  async function collect(out: JsonLines, n: number): Promise<Rx[]> {
    const base = consumed.get(out) ?? 0
    const all = (): Rx[] => out.lines.filter((l) => l.event === 'rx').flatMap((l) => l.packets as Rx[])
    await waitFor(() => all().length >= base + n, 10_000, `${n} packets`)
    consumed.set(out, base + n)
    return all().slice(base, base + n)
  }

  test('raw GRE sockets in two namespaces: send one way and back, single and batched, then close', { timeout: 60_000 }, async () => {
    const nsA = lab.ns('rawa'), nsB = lab.ns('rawb')
    lab.link(nsA, 'ghra0', `${A}/24`, nsB, 'ghrb0', `${B}/24`)
    const start = (ns: string, local: string): { proc: ReturnType<typeof lab.spawn>; out: JsonLines; exited: Promise<number | null>; stderr: () => string } => {
      const proc = lab.spawn(ns, process.execPath, [self], { env: { ...process.env, GH_RAW_CHILD: '1', GH_RAW_LOCAL: local }, stdio: ['pipe', 'pipe', 'pipe'] })
      let err = ''
      proc.stderr?.on('data', (d: Buffer) => { err += d.toString() })
      return { proc, out: new JsonLines(proc), exited: new Promise((r) => proc.once('exit', (c) => r(c))), stderr: () => err }
    }
    const a = start(nsA, A), b = start(nsB, B)
    const readyA = await a.out.next('ready', 10_000).catch((e: Error) => { throw new Error(`${e.message}; stderr: ${a.stderr()}`) })
    await b.out.next('ready', 10_000).catch((e: Error) => { throw new Error(`${e.message}; stderr: ${b.stderr()}`) })
    // No route to 198.18.99.99 inside the lab: the error names the syscall and the destination.
    const se = readyA.sendError as { code?: string; message?: string }
    assert.equal(se.code, 'ERR_RAW_SEND')
    assert.match(se.message ?? '', /to 198\.18\.99\.99: sendto failed: ENETUNREACH/)

    // A -> B: three data packets (one with a full-size 1400-byte PPP frame).
    const ab = [gre(7, 0, undefined, 40), gre(7, 1, undefined, 1400), gre(7, 2, undefined, 4)]
    a.proc.stdin?.write(JSON.stringify({ cmd: 'send', dest: B, hex: ab }) + '\n')
    const gotB = await collect(b.out, 3)
    assert.deepEqual(gotB, ab.map((hex) => ({ from: A, hex })))
    assert.equal(decodeGre(Buffer.from(gotB[1]!.hex, 'hex')).payload.length, 1400)

    // B -> A: an ack-only packet and a data packet with a piggybacked ack.
    const ba = [gre(9, 0, 2, 0).replace(/^3081/, '2081').replace(/00000000(00000002)$/, '$1'), gre(9, 0, 2, 10)]
    assert.equal(ba[0], '2081880b0000000900000002')
    b.proc.stdin?.write(JSON.stringify({ cmd: 'send', dest: A, hex: ba }) + '\n')
    assert.deepEqual(await collect(a.out, 2), ba.map((hex) => ({ from: B, hex })))

    // Batched: 64 packets in one sendmmsg from A; B receives all of them, in order, in few batches.
    const burst = Array.from({ length: 64 }, (_, i) => gre(7, 3 + i, undefined, 100))
    a.proc.stdin?.write(JSON.stringify({ cmd: 'sendMany', dest: B, hex: burst }) + '\n')
    const gotBurst = await collect(b.out, 64)
    assert.deepEqual(gotBurst.map((p) => p.hex), burst)
    assert.ok(gotBurst.every((p) => p.from === A))

    for (const c of [a, b]) c.proc.stdin?.write(JSON.stringify({ cmd: 'close' }) + '\n')
    const closedA = await a.out.next('closed'), closedB = await b.out.next('closed')
    assert.equal(closedA.isOpen, false)
    assert.deepEqual(closedA.counters, { 'tx-packets': 67, 'rx-batches': (closedA.counters as Record<string, number>)['rx-batches'], 'rx-packets': 2 })
    assert.equal((closedB.counters as Record<string, number>)['rx-packets'], 67)
    assert.equal((closedB.counters as Record<string, number>)['tx-packets'], 2)
    // The reader threads were joined and the sockets closed: both children exit by themselves.
    assert.equal(await a.exited, 0, a.stderr())
    assert.equal(await b.exited, 0, b.stderr())
  })

  test('without CAP_NET_RAW opening fails with ERR_RAW_OPEN naming the syscall and the fix', { timeout: 30_000 }, async () => {
    const ns = lab.ns('rawnocap')
    const proc = lab.spawn(ns, 'setpriv', ['--bounding-set', '-net_raw', '--inh-caps', '-net_raw', process.execPath, self], { env: { ...process.env, GH_RAW_CHILD: 'nocap' } })
    let stderr = ''
    proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
    const r = await new JsonLines(proc).next('result', 10_000).catch((e: Error) => { throw new Error(`${e.message}; stderr: ${stderr}`) })
    assert.equal(r.code, 'ERR_RAW_OPEN')
    assert.match(String(r.message), /^cannot open raw IP socket for protocol 47: socket AF_INET SOCK_RAW: .*\(EPERM\); run as root or grant CAP_NET_RAW$/)
  })

  test('GreCalls and GreDemux over raw sockets: two calls from one peer, swapped and repeated packets, echoed back in order', { timeout: 60_000 }, async () => {
    const nsA = lab.ns('grea'), nsB = lab.ns('greb')
    lab.link(nsA, 'ghga0', `${A}/24`, nsB, 'ghgb0', `${B}/24`)
    const start = (ns: string, role: string, local: string, peer: string): { proc: ReturnType<typeof lab.spawn>; out: JsonLines; exited: Promise<number | null>; stderr: () => string } => {
      const proc = lab.spawn(ns, process.execPath, [self], { env: { ...process.env, GH_RAW_CHILD: 'gre', GH_RAW_ROLE: role, GH_RAW_LOCAL: local, GH_RAW_PEER: peer }, stdio: ['pipe', 'pipe', 'pipe'] })
      let err = ''
      proc.stderr?.on('data', (d: Buffer) => { err += d.toString() })
      return { proc, out: new JsonLines(proc), exited: new Promise((r) => proc.once('exit', (c) => r(c))), stderr: () => err }
    }
    const b = start(nsB, 'reflector', B, A), a = start(nsA, 'sender', A, B)
    await b.out.next('ready', 10_000).catch((e: Error) => { throw new Error(`${e.message}; stderr: ${b.stderr()}`) })
    await a.out.next('ready', 10_000).catch((e: Error) => { throw new Error(`${e.message}; stderr: ${a.stderr()}`) })
    a.proc.stdin?.write('go\n')
    const all = Array.from({ length: 100 }, (_, n) => n)
    let report: Record<string, unknown> = {}
    await waitFor(async () => {
      const before = a.out.lines.length
      a.proc.stdin?.write('report\n')
      await waitFor(() => a.out.lines.slice(before).some((l) => l.event === 'report'), 5000, 'report')
      report = a.out.lines.slice(before).find((l) => l.event === 'report')!
      const e = report.echoes as number[][]
      return e[0]!.length === 100 && e[1]!.length === 100
    }, 10_000, 'all echoes', 100)
    assert.deepEqual(report.echoes, [all, all])
    // Let the sender's delayed ack (ackDelayMs 100) go out, then read both sides' counters.
    await new Promise((r) => setTimeout(r, 400))
    const before = a.out.lines.length
    a.proc.stdin?.write('report\n')
    await waitFor(() => a.out.lines.slice(before).some((l) => l.event === 'report'), 5000, 'report')
    report = a.out.lines.slice(before).find((l) => l.event === 'report')!
    await new Promise((r) => setTimeout(r, 100))
    b.proc.stdin?.write('report\n')
    const rb = await b.out.next('report')
    // 2 x (100 data + 4 repeats) from the sender, plus the ack-only packets it sent for the echoes.
    const acksFromA = (report.calls as Record<string, number>[]).reduce((n, c) => n + (c['tx:ack-only'] ?? 0), 0)
    assert.ok(acksFromA >= 2, `sender acked the echoes: ${acksFromA}`)
    assert.deepEqual(rb.demux, { 'rx:packets': 208 + acksFromA, 'drop:unknown-call': 1 })
    for (const c of rb.calls as Record<string, number>[]) {
      assert.equal(c['reordered'], 10) // each swapped pair was put back in order
      assert.equal(c['drop:duplicate'], 4)
      assert.equal(c['lost'], undefined)
    }
    for (const c of [a, b]) c.proc.stdin?.write('close\n')
    assert.equal(await a.exited, 0, a.stderr())
    assert.equal(await b.exited, 0, b.stderr())
  })
}

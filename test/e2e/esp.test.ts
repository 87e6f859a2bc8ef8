// End to end ESP (RFC 4303) through EspDriver in two network namespaces joined by a veth pair: a child
// node process in each (this file, GH_ESP_CHILD set) with raw IP protocol 50 and UDP 4500 (RFC 3948);
// transport-mode UDP payloads both ways on AES-GCM-16 and AES-CBC+HMAC-SHA1 SAs; replay, unknown SPI.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { JsonLines, waitFor } from '../../src/transport/netns.js'
import { useNetnsLab } from '../helpers/netns.js'

const A = '198.18.90.1'
const B = '198.18.90.2'
const PER_SA = 200
/** SA k: [algorithm, UDP-encapsulated]. */
const SAS = [['gcm', false], ['cbc', false], ['gcm', true], ['cbc', true]] as const

/** The UDP data of payload n on SA k from `dir` ('ab' or 'ba'): distinct lengths and bytes per packet. */
function data(dir: string, k: number, n: number): Uint8Array {
  const len = 4 + ((n * 37) % 1200)
  return Uint8Array.from({ length: len }, (_, i) => (i === 0 ? dir.charCodeAt(0) : i === 1 ? k : i === 2 ? n >> 8 : i === 3 ? n & 0xff : (n * 7 + i * 13 + k) & 0xff))
}

/** Fixed test keys: direction A->B uses seed 0x10+k, B->A 0x20+k. */
function keyBytes(len: number, seed: number): Uint8Array { return Uint8Array.from({ length: len }, (_, i) => (seed * 31 + i * 17) & 0xff) }

async function child(): Promise<void> {
  const { RawIpSocket } = await import('../../src/transport/raw-ip.js')
  const { UdpSocket } = await import('../../src/transport/udp.js')
  const { EspDriver } = await import('../../src/transport/esp-driver.js')
  const { EspInboundSa } = await import('../../src/esp/sa-inbound.js')
  const { EspOutboundSa } = await import('../../src/esp/sa-outbound.js')
  const { EspEncryption, EspIntegrity } = await import('../../src/esp/algorithms.js')
  const { encodeTransportUdp, decodeTransportUdp } = await import('../../src/esp/tunnel.js')
  const { systemRng } = await import('../../src/crypto/rng.js')
  const say = (o: Record<string, unknown>): void => { process.stdout.write(JSON.stringify(o) + '\n') }
  const local = process.env.GH_ESP_LOCAL!, peer = process.env.GH_ESP_PEER!
  const isA = process.env.GH_ESP_ROLE === 'a'
  const dirOut = isA ? 'ab' : 'ba', dirIn = isA ? 'ba' : 'ab'

  // The sockets are wrapped to keep the last ESP packet each carried, for the replay test (within the window).
  const raw = RawIpSocket.open({ protocol: 50, bindAddress: local, recvBufferBytes: 4 * 1024 * 1024 })
  const udp = await UdpSocket.bind({ address: local, port: 4500, what: 'ESP test', bufferBytes: 4 * 1024 * 1024 })
  let lastRaw: Uint8Array | undefined, lastUdp: Uint8Array | undefined
  const rawSendMany = raw.sendMany.bind(raw), udpSend = udp.send.bind(udp)
  raw.sendMany = (items) => { lastRaw = items.at(-1)?.payload.slice() ?? lastRaw; rawSendMany(items) }
  udp.send = (to, d) => { if (d.length > 8 && (d[0]! | d[1]! | d[2]! | d[3]!) !== 0) lastUdp = d.slice(); udpSend(to, d) }

  const ok = SAS.map(() => 0)
  let bad = 0
  const ike: string[] = []
  const driver = new EspDriver({
    raw, udp, keepaliveIntervalMs: 200,
    onPayload: (h, nh, payload) => {
      const k = h.inboundSpi & 0xff
      try {
        const u = decodeTransportUdp(payload)
        const n = (u.data[2]! << 8) | u.data[3]!
        if (nh === 17 && u.sourcePort === 1701 && u.destinationPort === 1701 && Buffer.from(u.data).equals(data(dirIn, k, n))) ok[k]!++
        else bad++
      } catch { bad++ }
    },
    onIke: (m, from) => ike.push(`${Buffer.from(m).toString('hex')}@${from.address}:${from.port}`),
    onError: (e) => say({ event: 'error', message: e.message }),
    onFault: (_h, e) => say({ event: 'fault', message: String(e) }),
  })
  const handles = SAS.map(([alg, overUdp], k) => {
    const enc = alg === 'gcm' ? EspEncryption.AES_GCM16_128 : EspEncryption.AES_CBC_128
    const integ = alg === 'gcm' ? undefined : EspIntegrity.HMAC_SHA1_96
    const keys = (seed: number) => ({ encryptionKey: keyBytes(enc.keyLength + enc.saltLength, seed), ...(integ ? { integrityKey: keyBytes(integ.keyLength, seed + 0x80) } : {}) })
    const seedIn = isA ? 0x20 + k : 0x10 + k, seedOut = isA ? 0x10 + k : 0x20 + k
    // A's inbound SPIs are 0x1000+k, B's 0x2000+k; the low byte names the SA.
    const spiIn = (isA ? 0x1000 : 0x2000) + k, spiOut = (isA ? 0x2000 : 0x1000) + k
    return driver.addSa(
      new EspInboundSa({ spi: spiIn, encryption: enc, integrity: integ, keys: keys(seedIn) }),
      new EspOutboundSa({ spi: spiOut, encryption: enc, integrity: integ, keys: keys(seedOut), rng: systemRng }),
      overUdp ? { address: peer, port: 4500, behindNat: isA } : { address: peer })
  })
  say({ event: 'ready' })

  const turn = (): Promise<void> => new Promise((r) => setImmediate(r))
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', (cmd: string) => {
    if (cmd.includes('go')) void (async () => {
      driver.sendIke({ address: peer, port: 4500 }, Uint8Array.of(0x49, 0x4b, 0x45, isA ? 1 : 2))
      // 25 packets per SA per event-loop turn (each turn's raw packets leave in one sendmmsg).
      for (let n = 0; n < PER_SA; n += 25) {
        for (const [k, h] of handles.entries()) for (let i = n; i < n + 25; i++) driver.send(h, encodeTransportUdp(1701, 1701, data(dirOut, k, i)), 17)
        await turn()
        await new Promise((r) => setTimeout(r, 2))
      }
      say({ event: 'sent' })
    })()
    if (cmd.includes('attack')) {
      // Replays of the last raw and UDP ESP packets sent, and one packet each way for an unknown SPI.
      raw.send(peer, lastRaw!)
      udpSend({ address: peer, port: 4500 }, lastUdp!)
      const unknown = lastRaw!.slice(); unknown.set([0xde, 0xad, 0xbe, 0xef], 0)
      raw.send(peer, unknown)
      udpSend({ address: peer, port: 4500 }, unknown)
      say({ event: 'attacked' })
    }
    if (cmd.includes('report')) say({ event: 'report', ok, bad, ike, counters: driver.counters() })
    if (cmd.includes('close')) void driver.close().then(() => { say({ event: 'closed', closed: handles.every((h) => h.removed) }); process.stdin.destroy() })
  })
}

if (process.env.GH_ESP_CHILD === '1') {
  await child()
} else {
  const lab = useNetnsLab(`ghx${process.pid}_`)
  const self = fileURLToPath(import.meta.url)

  test('EspDriver in two namespaces: 200 payloads each way per SA over raw ESP and UDP 4500 (AES-GCM-16, AES-CBC+HMAC-SHA1), replay and unknown SPI counted', { timeout: 90_000 }, async () => {
    const nsA = lab.ns('espa'), nsB = lab.ns('espb')
    lab.link(nsA, 'ghxa0', `${A}/24`, nsB, 'ghxb0', `${B}/24`)
    const start = (ns: string, role: string, local: string, peer: string) => {
      const proc = lab.spawn(ns, process.execPath, [self], { env: { ...process.env, GH_ESP_CHILD: '1', GH_ESP_ROLE: role, GH_ESP_LOCAL: local, GH_ESP_PEER: peer }, stdio: ['pipe', 'pipe', 'pipe'] })
      let err = ''
      proc.stderr?.on('data', (d: Buffer) => { err += d.toString() })
      return { proc, out: new JsonLines(proc), exited: new Promise<number | null>((r) => proc.once('exit', (c) => r(c))), stderr: () => err }
    }
    const a = start(nsA, 'a', A, B), b = start(nsB, 'b', B, A)
    for (const c of [a, b]) await c.out.next('ready', 10_000).catch((e: Error) => { throw new Error(`${e.message}; stderr: ${c.stderr()}`) })
    for (const c of [a, b]) c.proc.stdin?.write('go\n')
    for (const c of [a, b]) await c.out.next('sent', 30_000)

    const report = async (c: typeof a): Promise<Record<string, unknown>> => {
      const from = c.out.lines.length
      c.proc.stdin?.write('report\n')
      return c.out.next('report', 5000, from)
    }
    let ra: Record<string, unknown> = {}, rb: Record<string, unknown> = {}
    await waitFor(async () => {
      ra = await report(a); rb = await report(b)
      return [ra, rb].every((r) => (r.ok as number[]).every((n) => n === PER_SA))
    }, 20_000, 'all payloads', 100).catch((e: Error) => { throw new Error(`${e.message}: A ${JSON.stringify(ra)} B ${JSON.stringify(rb)}`) })
    for (const r of [ra, rb]) {
      assert.deepEqual(r.ok, [PER_SA, PER_SA, PER_SA, PER_SA])
      assert.equal(r.bad, 0)
    }
    // IKE on 4500 crossed with the Non-ESP Marker stripped, from the peer's port 4500.
    assert.deepEqual(ra.ike, [`494b4502@${B}:4500`])
    assert.deepEqual(rb.ike, [`494b4501@${A}:4500`])

    // A says it is behind NAT: once its traffic stops, B receives A's keepalives (RFC 3948 §4); A gets none.
    await waitFor(async () => ((await report(b)).counters as Record<string, number>)['demux.rx:keepalive']! >= 2, 5000, 'keepalives from A', 100)
    assert.equal(((await report(a)).counters as Record<string, number>)['demux.rx:keepalive'], undefined)

    a.proc.stdin?.write('attack\n')
    await a.out.next('attacked', 5000)
    let cb: Record<string, number> = {}
    await waitFor(async () => {
      cb = (await report(b)).counters as Record<string, number>
      return (cb['sa.drop:replay:duplicate'] ?? 0) >= 2 && (cb['demux.drop:bad-spi'] ?? 0) >= 2
    }, 5000, 'replay and unknown SPI counted', 100).catch((e: Error) => { throw new Error(`${e.message}: ${JSON.stringify(cb)}`) })
    assert.equal(cb['sa.drop:replay:duplicate'], 2)
    assert.equal(cb['demux.drop:bad-spi'], 2)
    assert.equal(cb['sa.rx:packets'], 4 * PER_SA, 'nothing replayed was delivered')
    assert.equal(cb['sa.tx:packets'], 4 * PER_SA)
    assert.equal(cb['raw.rx-packets'], 2 * PER_SA + 2)
    const last = (await report(b))
    assert.deepEqual(last.ok, [PER_SA, PER_SA, PER_SA, PER_SA])

    for (const c of [a, b]) c.proc.stdin?.write('close\n')
    for (const c of [a, b]) assert.equal((await c.out.next('closed', 5000)).closed, true)
    assert.equal(await a.exited, 0, a.stderr())
    assert.equal(await b.exited, 0, b.stderr())
  })
}

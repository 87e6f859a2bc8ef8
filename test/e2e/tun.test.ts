// End to end through a real TUN in a network namespace: a child node process (this file, run with
// GH_TUN_CHILD=1 under `ip netns exec`) opens the TUN through the addon, answers ICMP echo for
// 198.19.1.2 in JS, and `ping` proves open/read/write/close and batched delivery.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { JsonLines, waitFor } from '../../src/transport/netns.js'
import { useNetnsLab } from '../helpers/netns.js'

const LOCAL = '198.19.1.1'
const PEER = '198.19.1.2' // answered by the JS responder, not by the kernel

// ---- child side -------------------------------------------------------------------------------

function onesSum(p: Uint8Array, start: number, end: number): number {
  let s = 0
  for (let i = start; i < end; i += 2) s += (p[i]! << 8) | (i + 1 < end ? p[i + 1]! : 0)
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16)
  return s
}

/** An ICMP echo reply (RFC 792) for an echo request to PEER, or undefined for anything else. */
function echoReply(req: Uint8Array): Uint8Array | undefined {
  if (req.length < 28 || req[0]! >> 4 !== 4 || req[9] !== 1) return undefined
  const ihl = (req[0]! & 15) * 4
  const total = (req[2]! << 8) | req[3]!
  if (total > req.length || req[ihl] !== 8) return undefined
  if (req[16] !== 198 || req[17] !== 19 || req[18] !== 1 || req[19] !== 2) return undefined
  const p = req.slice(0, total)
  // Swapping source and destination leaves the IPv4 header checksum unchanged (a sum commutes).
  p.set(req.subarray(16, 20), 12)
  p.set(req.subarray(12, 16), 16)
  p[ihl] = 0 // Echo Reply
  p[ihl + 2] = 0; p[ihl + 3] = 0
  const ck = ~onesSum(p, ihl, total) & 0xffff
  p[ihl + 2] = ck >> 8; p[ihl + 3] = ck & 0xff
  return p
}

async function child(): Promise<void> {
  const { TunDevice } = await import('../../src/transport/tun.js')
  const { addAddress, addRoute, delRoute, ipForwardingEnabled, linkUp, runIp, setForwarding } = await import('../../src/transport/netcfg.js')
  const say = (o: Record<string, unknown>): void => { process.stdout.write(JSON.stringify(o) + '\n') }
  const name = process.env.GH_TUN_NAME ?? 'ghtun0'
  const tun = TunDevice.open({ name })
  // A second attach of the same name must fail with our error code, naming /dev/net/tun.
  let dup: { code?: string; message?: string } = {}
  try { TunDevice.open({ name }).close() } catch (e) { dup = { code: (e as { code?: string }).code, message: (e as Error).message } }
  // A non-IP packet is refused by the kernel (EINVAL) and surfaces as ERR_TUN_WRITE.
  let badWrite: string | undefined
  try { tun.write(new Uint8Array([0x00, 1, 2, 3])) } catch (e) { badWrite = `${(e as { code?: string }).code}: ${(e as Error).message}` }
  await linkUp(tun.name, 1400)
  await addAddress(tun.name, `${LOCAL}/24`)
  // netcfg against the real kernel (this namespace only): a route on the TUN, removed again;
  // forwarding toggled; a bad device name gives ERR_NETCFG with the command and ip's stderr.
  await addRoute('198.19.50.0/24', tun.name, { metric: 7 })
  await addRoute('198.19.50.0/24', tun.name, { metric: 7 }) // replace: idempotent on reconnect
  const routeShown = (await runIp(['route', 'show', '198.19.50.0/24'])).trim()
  await delRoute('198.19.50.0/24', tun.name, { metric: 7 })
  const routeAfter = (await runIp(['route', 'show', '198.19.50.0/24'])).trim()
  await setForwarding(true)
  const fwdOn = await ipForwardingEnabled()
  await setForwarding(false)
  const fwdOff = await ipForwardingEnabled()
  let netcfgError = ''
  try { await addAddress('ghnosuchdev0', '198.19.60.1/24') } catch (e) { netcfgError = `${(e as { code?: string }).code}: ${(e as Error).message}` }
  const mtu = (await runIp(['link', 'show', tun.name])).match(/mtu (\d+)/)?.[1]
  const batches: number[] = []
  let replies = 0
  const start = (): void => tun.onPackets((packets) => {
    batches.push(packets.length)
    const out: Uint8Array[] = []
    for (const p of packets) { const r = echoReply(p); if (r) out.push(r) }
    replies += out.length
    tun.writeMany(out)
    say({ event: 'batch', n: packets.length, replies: out.length })
  })
  say({ event: 'ready', name: tun.name, dup, badWrite, routeShown, routeAfter, fwdOn, fwdOff, netcfgError, mtu })
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', (cmd: string) => {
    for (const c of cmd.split('\n')) {
      if (c === 'start') start()
      if (c === 'close') {
        tun.close()
        say({ event: 'closed', batches, replies, counters: tun.counters.snapshot(), isOpen: tun.isOpen })
        // Nothing else may keep the loop alive: a reader thread that was not joined would.
        process.stdin.pause()
        process.stdin.removeAllListeners('data')
        process.stdin.destroy()
      }
    }
  })
}

/** Child mode 'gc': a raw native reader whose handle is only weakly held must survive GC. */
async function gcChild(): Promise<void> {
  const { loadNative, splitBatch } = await import('../../src/native/index.js')
  const { addAddress, linkUp } = await import('../../src/transport/netcfg.js')
  const say = (o: Record<string, unknown>): void => { process.stdout.write(JSON.stringify(o) + '\n') }
  const n = loadNative()
  const { fd, name } = n.openTun(process.env.GH_TUN_NAME)
  await linkUp(name, 1400)
  await addAddress(name, `${LOCAL}/24`)
  let replies = 0
  const weak = new WeakRef(n.startReader(fd, (err, data, lengths) => {
    if (err || !data || !lengths) return
    const out = splitBatch(data, lengths).map(echoReply).filter((r): r is Uint8Array => r !== undefined)
    replies += n.writeMany(fd, out)
  }, { maxBatch: 8 }))
  const gc = (globalThis as { gc?: () => void }).gc
  for (let i = 0; i < 3; i++) { gc?.(); await new Promise((r) => setImmediate(r)) }
  say({ event: 'ready', gcExposed: gc !== undefined, alive: weak.deref() !== undefined })
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', (cmd: string) => {
    if (!cmd.includes('close')) return
    gc?.()
    const h = weak.deref()
    if (h) n.stopReader(h)
    n.close(fd)
    say({ event: 'closed', replies, alive: h !== undefined, stats: h ? n.readerStats(h) : undefined })
    process.stdin.destroy()
  })
}

/** Child mode 'unplug': the interface is deleted under a running reader; onError must fire. */
async function unplugChild(): Promise<void> {
  const { TunDevice } = await import('../../src/transport/tun.js')
  const say = (o: Record<string, unknown>): void => { process.stdout.write(JSON.stringify(o) + '\n') }
  const tun = TunDevice.open({ name: process.env.GH_TUN_NAME })
  tun.onPackets(() => {})
  tun.onError((e) => {
    say({ event: 'error', code: e.code, message: e.message })
    tun.close()
    say({ event: 'closed', isOpen: tun.isOpen })
  })
  say({ event: 'ready' })
}

/** Child mode 'nocap': runs without CAP_NET_ADMIN (setpriv); opening must fail with the fix named. */
async function nocapChild(): Promise<void> {
  const { TunDevice } = await import('../../src/transport/tun.js')
  const errors: { code?: string; message: string }[] = []
  for (const name of [process.env.GH_TUN_NAME, 'x'.repeat(16)]) {
    try { TunDevice.open({ name }).close(); errors.push({ message: 'opened' }) } catch (e) { errors.push({ code: (e as { code?: string }).code, message: (e as Error).message }) }
  }
  process.stdout.write(JSON.stringify({ event: 'result', errors }) + '\n')
}

/** Child mode 'throw': an exception from the packets callback must surface as uncaughtException. */
async function throwChild(): Promise<void> {
  const { TunDevice } = await import('../../src/transport/tun.js')
  const { addAddress, linkUp } = await import('../../src/transport/netcfg.js')
  const say = (o: Record<string, unknown>): void => { process.stdout.write(JSON.stringify(o) + '\n') }
  const tun = TunDevice.open({ name: process.env.GH_TUN_NAME })
  await linkUp(tun.name, 1400)
  await addAddress(tun.name, `${LOCAL}/24`)
  process.once('uncaughtException', (e) => {
    tun.close()
    say({ event: 'uncaught', message: e.message })
  })
  tun.onPackets(() => { throw new Error('bug in a packets callback') })
  say({ event: 'ready' })
}

// ---- test side --------------------------------------------------------------------------------

if (process.env.GH_TUN_CHILD === '1') {
  await child()
} else if (process.env.GH_TUN_CHILD === 'gc') {
  await gcChild()
} else if (process.env.GH_TUN_CHILD === 'unplug') {
  await unplugChild()
} else if (process.env.GH_TUN_CHILD === 'throw') {
  await throwChild()
} else if (process.env.GH_TUN_CHILD === 'nocap') {
  await nocapChild()
} else {
  const lab = useNetnsLab()
  const self = fileURLToPath(import.meta.url)

  test('TUN via the native addon: open, batched read, ICMP echo write-back, close', { timeout: 60_000 }, async () => {
    const ns = lab.ns('tun')
    const dev = `ght${process.pid.toString(36)}`
    const proc = lab.spawn(ns, process.execPath, [self], { env: { ...process.env, GH_TUN_CHILD: '1', GH_TUN_NAME: dev }, stdio: ['pipe', 'pipe', 'pipe'] })
    let stderr = ''
    proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)))
    const out = new JsonLines(proc)
    const ready = await out.next('ready', 10_000).catch((e: Error) => { throw new Error(`${e.message}; child stderr: ${stderr}`) })
    assert.equal(ready.name, dev)
    const dup = ready.dup as { code?: string; message?: string }
    assert.equal(dup.code, 'ERR_TUN_OPEN')
    assert.match(dup.message ?? '', /\/dev\/net\/tun/)
    assert.match(String(ready.badWrite), /^ERR_TUN_WRITE: .*EINVAL/)
    assert.equal(ready.mtu, '1400')
    assert.match(String(ready.routeShown), new RegExp(`^198\\.19\\.50\\.0/24 dev ${dev} .*metric 7`))
    assert.equal(ready.routeAfter, '')
    assert.equal(ready.fwdOn, true)
    assert.equal(ready.fwdOff, false)
    assert.match(String(ready.netcfgError), /^ERR_NETCFG: `ip addr add 198\.19\.60\.1\/24 dev ghnosuchdev0` failed: .*(Cannot find device|does not exist)/)

    // 1. A burst queued in the kernel before the reader starts arrives as one batch.
    // (TUN tx statistics count only packets read, so watch the namespace's ICMP OutEchos instead.)
    const outEchos = async (): Promise<number> => {
      const snmp = (await lab.execAsync(ns, 'cat', ['/proc/net/snmp'])).stdout.split('\n').filter((l) => l.startsWith('Icmp:'))
      const keys = snmp[0]?.split(/\s+/) ?? [], vals = snmp[1]?.split(/\s+/) ?? []
      return Number(vals[keys.indexOf('OutEchos')])
    }
    const before = await outEchos()
    const burst = lab.execAsync(ns, 'ping', ['-n', '-q', '-c', '32', '-l', '32', '-W', '5', '-w', '15', PEER], { check: false, timeoutMs: 20_000 })
    await waitFor(async () => (await outEchos()) - before >= 32, 5000, '32 echo requests sent into the TUN')
    proc.stdin?.write('start\n')
    const burstResult = await burst
    assert.match(burstResult.stdout, /32 packets transmitted, 32 received/, burstResult.stdout + burstResult.stderr)
    const firstBatch = await out.next('batch')
    assert.ok((firstBatch.n as number) >= 32, `first batch held ${String(firstBatch.n)} packets`)

    // 2. Steady state: ordinary pings are answered one by one through the running reader.
    const r = await lab.execAsync(ns, 'ping', ['-n', '-c', '5', '-i', '0.05', '-W', '2', PEER], { check: false })
    assert.match(r.stdout, /5 packets transmitted, 5 received/, r.stdout + r.stderr)

    // 3. Close: the reader thread is joined, the fd closed, the kernel removes the interface,
    // and the child exits on its own (no handle left keeping its event loop alive).
    proc.stdin?.write('close\n')
    const closed = await out.next('closed')
    assert.equal(closed.isOpen, false)
    assert.equal(closed.replies, 37)
    const counters = closed.counters as Record<string, number>
    assert.ok(counters['rx-packets']! >= 37)
    assert.equal(counters['write-dropped'], undefined)
    let timer: NodeJS.Timeout | undefined
    const code = await Promise.race([exited, new Promise((r) => { timer = setTimeout(() => r('still running'), 5000) })])
    clearTimeout(timer)
    assert.equal(code, 0, `child did not exit by itself; stderr: ${stderr}`)
    console.log(`# batches: first ${String(firstBatch.n)}, all ${JSON.stringify(closed.batches)}`)
    const link = await lab.execAsync(ns, 'ip', ['link', 'show', dev], { check: false })
    assert.notEqual(link.code, 0, 'interface should be gone after close')
  })

  test('a running native reader survives garbage collection of its handle', { timeout: 30_000 }, async () => {
    const ns = lab.ns('gc')
    const dev = `ghg${process.pid.toString(36)}`
    const proc = lab.spawn(ns, process.execPath, ['--expose-gc', self], { env: { ...process.env, GH_TUN_CHILD: 'gc', GH_TUN_NAME: dev }, stdio: ['pipe', 'pipe', 'pipe'] })
    let stderr = ''
    proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)))
    const out = new JsonLines(proc)
    const ready = await out.next('ready', 10_000).catch((e: Error) => { throw new Error(`${e.message}; child stderr: ${stderr}`) })
    assert.equal(ready.gcExposed, true)
    assert.equal(ready.alive, true)
    const r = await lab.execAsync(ns, 'ping', ['-n', '-c', '3', '-i', '0.05', '-W', '2', PEER], { check: false })
    assert.match(r.stdout, /3 packets transmitted, 3 received/, r.stdout + r.stderr)
    proc.stdin?.write('close\n')
    const closed = await out.next('closed')
    assert.equal(closed.alive, true)
    assert.equal(closed.replies, 3)
    assert.ok(((closed.stats as { packets: number }).packets) >= 3)
    assert.equal(await exited, 0, stderr)
  })

  test('deleting the interface under a running reader surfaces ERR_TUN_READ, then close works', { timeout: 30_000 }, async () => {
    const ns = lab.ns('unplug')
    const dev = `ghu${process.pid.toString(36)}`
    const proc = lab.spawn(ns, process.execPath, [self], { env: { ...process.env, GH_TUN_CHILD: 'unplug', GH_TUN_NAME: dev }, stdio: ['pipe', 'pipe', 'pipe'] })
    let stderr = ''
    proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)))
    const out = new JsonLines(proc)
    await out.next('ready', 10_000).catch((e: Error) => { throw new Error(`${e.message}; child stderr: ${stderr}`) })
    await lab.execAsync(ns, 'ip', ['link', 'del', dev])
    const err = await out.next('error')
    assert.equal(err.code, 'ERR_TUN_READ')
    assert.match(String(err.message), new RegExp(`reading TUN ${dev}: poll .*\\(E`))
    assert.equal((await out.next('closed')).isOpen, false)
    // The reader thread was joined and the fd closed: nothing keeps the child alive.
    assert.equal(await exited, 0, stderr)
  })

  test('without CAP_NET_ADMIN opening fails with ERR_TUN_OPEN naming /dev/net/tun and the fix', { timeout: 30_000 }, async () => {
    const ns = lab.ns('nocap')
    const dev = `ghc${process.pid.toString(36)}`
    const proc = lab.spawn(ns, 'setpriv', ['--bounding-set', '-net_admin', '--inh-caps', '-net_admin', process.execPath, self], { env: { ...process.env, GH_TUN_CHILD: 'nocap', GH_TUN_NAME: dev } })
    let stderr = ''
    proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
    const result = await new JsonLines(proc).next('result', 10_000).catch((e: Error) => { throw new Error(`${e.message}; child stderr: ${stderr}`) })
    const [noCap, badName] = result.errors as { code?: string; message: string }[]
    assert.equal(noCap?.code, 'ERR_TUN_OPEN')
    assert.match(noCap?.message ?? '', new RegExp(`^cannot open TUN ${dev} via /dev/net/tun: ioctl TUNSETIFF ${dev}: .*\\(EPERM\\); run as root or grant CAP_NET_ADMIN$`))
    assert.equal(badName?.code, 'ERR_TUN_OPEN')
    assert.match(badName?.message ?? '', /invalid TUN name/)
  })

  test('an exception thrown by the packets callback is raised as uncaught, not swallowed', { timeout: 30_000 }, async () => {
    const ns = lab.ns('throw')
    const dev = `ghx${process.pid.toString(36)}`
    const proc = lab.spawn(ns, process.execPath, [self], { env: { ...process.env, GH_TUN_CHILD: 'throw', GH_TUN_NAME: dev } })
    let stderr = ''
    proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)))
    const out = new JsonLines(proc)
    await out.next('ready', 10_000).catch((e: Error) => { throw new Error(`${e.message}; child stderr: ${stderr}`) })
    await lab.execAsync(ns, 'ping', ['-n', '-c', '1', '-W', '1', PEER], { check: false })
    assert.equal((await out.next('uncaught')).message, 'bug in a packets callback')
    assert.equal(await exited, 0, stderr)
    assert.doesNotMatch(stderr, /DEP0168/)
  })
}

// SessionRegistry with router accounts: the verdict's routes go into the data plane and, through
// an injected KernelRoutes, into the kernel while the session is up; a newcomer whose routes are
// held by another account is closed with 'routes-in-use' (the same account replaces its stale session); kernel failures are logged, never thrown; add/remove of one
// prefix run in order even when the kernel answers out of order.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SessionRegistry, type CarrierSession, type KernelRoutes } from '../../src/gateway/sessions.js'
import type { AuthProof, AuthVerdict } from '../../src/auth/types.js'
import { AddressPool } from '../../src/ip/pool.js'
import { Dataplane } from '../../src/dataplane/dataplane.js'
import type { Logger } from '../../src/lib/log.js'

const PAP = (user: string): AuthProof => ({ method: 'pap', user, password: 'right' })
const ROUTES: Record<string, readonly string[]> = { branch1: ['10.2.0.0/24', '10.3.0.0/16'], branch1b: ['10.3.5.0/24'] }

function captureLog(): Logger & { lines: { level: string; msg: string; fields?: Record<string, unknown> }[] } {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = []
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>): void => { lines.push({ level, msg, fields }) }
  const log = { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log }
  return log
}

/** A fake kernel: records calls in the order they start, applies them when they settle. */
function fakeKernel(opts: { manual?: boolean; fail?: RegExp } = {}) {
  const calls: string[] = []
  const table = new Set<string>()
  const pending: { op: string; prefix: string; settle: () => void }[] = []
  const op = (kind: 'add' | 'remove') => (prefix: string): Promise<void> => {
    calls.push(`${kind} ${prefix}`)
    return new Promise<void>((resolve, reject) => {
      const settle = (): void => {
        if (opts.fail?.test(`${kind} ${prefix}`)) { reject(new Error(`RTNETLINK answers: File exists (${prefix})`)); return }
        if (kind === 'add') table.add(prefix); else table.delete(prefix)
        resolve()
      }
      if (opts.manual) pending.push({ op: kind, prefix, settle }); else settle()
    })
  }
  const kernel: KernelRoutes = { add: op('add'), remove: op('remove') }
  return { kernel, calls, table, pending }
}

function setup(kernel?: KernelRoutes) {
  const pool = new AddressPool('198.19.0.0/29')
  pool.allocate() // the gateway's own address
  const toTun: Uint8Array[] = []
  const dataplane = new Dataplane({ writeTun: (p) => toTun.push(p) })
  const aaa = { verify: (p: AuthProof): AuthVerdict => ({ ok: true, user: p.user, ...(ROUTES[p.user] ? { routes: ROUTES[p.user] } : {}) }) }
  const accounting = { start: () => {}, end: () => {}, failedAuth: () => {} }
  const log = captureLog()
  const reg = new SessionRegistry({ aaa, accounting, pool, routes: dataplane, kernelRoutes: kernel, log })
  return { reg, pool, dataplane, toTun, log }
}

function carrier(id: string): CarrierSession & { sent: Uint8Array[]; closes: { reason: string; message: string }[] } {
  const sent: Uint8Array[] = []
  const closes: { reason: string; message: string }[] = []
  return { id, protocol: 'pptp', peer: '198.18.0.9:1723', sent, closes, sendIp: (p) => sent.push(p), close: (reason, message) => closes.push({ reason, message }) }
}

function ipv4(src: string, dst: string): Uint8Array {
  const p = new Uint8Array(20)
  p[0] = 0x45; p[3] = 20; p[8] = 64; p[9] = 17
  p.set(src.split('.').map(Number), 12); p.set(dst.split('.').map(Number), 16)
  let sum = 0
  for (let i = 0; i < 20; i += 2) sum += (p[i]! << 8) | p[i + 1]!
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  const c = ~sum & 0xffff
  p[10] = c >> 8; p[11] = c & 0xff
  return p
}

async function bringUp(reg: SessionRegistry, c: CarrierSession, user: string): Promise<string> {
  reg.opened(c, 0)
  const v = await reg.authenticate(c.id, PAP(user), 1)
  assert.ok(v.ok)
  reg.up(c.id, v.address!)
  return v.address!
}

test('a router account: its networks are routed to it, kernel routes added at up and removed at close', async () => {
  const k = fakeKernel()
  const { reg, dataplane, toTun } = setup(k.kernel)
  const c = carrier('r1')
  const addr = await bringUp(reg, c, 'branch1')
  await reg.kernelRoutesSettled()
  assert.deepEqual(k.calls, ['add 10.2.0.0/24', 'add 10.3.0.0/16'])
  assert.deepEqual([...k.table], ['10.2.0.0/24', '10.3.0.0/16'])
  dataplane.handleTunPackets([ipv4('203.0.113.5', '10.2.0.9'), ipv4('203.0.113.5', '10.3.1.1')])
  assert.equal(c.sent.length, 2)
  reg.ip('r1', ipv4('10.2.0.9', '203.0.113.5')) // the LAN behind the router answers
  assert.equal(toTun.length, 1)
  const info = reg.list()[0]!
  assert.deepEqual([info.address, info.routes], [addr, ['10.2.0.0/24', '10.3.0.0/16']])
  reg.closed('r1', 'peer-disconnected', 'bye', 5)
  await reg.kernelRoutesSettled()
  assert.deepEqual(k.calls.slice(2), ['remove 10.2.0.0/24', 'remove 10.3.0.0/16'])
  assert.equal(k.table.size, 0)
  dataplane.handleTunPacket(ipv4('203.0.113.5', '10.2.0.9'))
  assert.equal(c.sent.length, 2, 'no longer routed')
})

test('an ordinary user: no kernel calls, no routes in the session info', async () => {
  const k = fakeKernel()
  const { reg } = setup(k.kernel)
  await bringUp(reg, carrier('a'), 'alice')
  assert.equal('routes' in reg.list()[0]!, false)
  reg.closed('a', 'admin', '', 2)
  await reg.kernelRoutesSettled()
  assert.deepEqual(k.calls, [])
})

test("another account's session with overlapping routes is closed with routes-in-use; the holder keeps routes and kernel state", async () => {
  const k = fakeKernel()
  const { reg, pool, dataplane } = setup(k.kernel)
  const holder = carrier('r1'), nested = carrier('r1b')
  await bringUp(reg, holder, 'branch1')
  await bringUp(reg, nested, 'branch1b')
  assert.equal(nested.closes.length, 1)
  assert.equal(nested.closes[0]!.reason, 'routes-in-use')
  assert.match(nested.closes[0]!.message, /^routes in use by another session: 10\.3\.5\.0\/24 overlaps 10\.3\.0\.0\/16, routed to the session at 198\.19\.0\.2$/)
  reg.closed(nested.id, 'routes-in-use', nested.closes[0]!.message, 3)
  await reg.kernelRoutesSettled()
  assert.deepEqual(k.calls, ['add 10.2.0.0/24', 'add 10.3.0.0/16'], 'the refused newcomer neither added nor removed kernel routes')
  assert.equal(pool.inUse(), 2, "gateway + the holder; the newcomer's address went back")
  dataplane.handleTunPacket(ipv4('203.0.113.5', '10.3.5.1'))
  assert.equal(holder.sent.length, 1)
  assert.equal(holder.closes.length, 0)
})

test('the same router account connecting again replaces its stale session: records the old one, routes move to the new one', async () => {
  const k = fakeKernel()
  const { reg, pool, dataplane } = setup(k.kernel)
  const old = carrier('r1'), again = carrier('r1-again')
  const oldAddr = await bringUp(reg, old, 'branch1')
  const newAddr = await bringUp(reg, again, 'branch1')
  assert.deepEqual(old.closes.map((c) => c.reason), ['replaced'], 'the old carrier is told to close')
  assert.equal(again.closes.length, 0, 'the newcomer stays')
  assert.deepEqual(reg.list().map((i) => i.id), ['r1-again'], 'the old session is gone from the table at once')
  reg.closed('r1', 'replaced', 'late close from the carrier', 9) // the carrier's own close later: a no-op
  await reg.kernelRoutesSettled()
  assert.deepEqual(k.calls, ['add 10.2.0.0/24', 'add 10.3.0.0/16', 'remove 10.2.0.0/24', 'remove 10.3.0.0/16', 'add 10.2.0.0/24', 'add 10.3.0.0/16'], 'removals of the old session run before the new adds')
  assert.deepEqual([...k.table].sort(), ['10.2.0.0/24', '10.3.0.0/16'])
  assert.notEqual(oldAddr, newAddr)
  assert.equal(pool.inUse(), 2, "gateway + the new session; the old session's address went back")
  dataplane.handleTunPacket(ipv4('203.0.113.5', '10.2.0.7'))
  assert.equal(again.sent.length, 1)
  assert.equal(old.sent.length, 0)
})

test('kernel route failures are logged with the prefix and never end the session', async () => {
  const k = fakeKernel({ fail: /10\.3\.0\.0\/16/ })
  const { reg, dataplane, log } = setup(k.kernel)
  const c = carrier('r1')
  await bringUp(reg, c, 'branch1')
  await reg.kernelRoutesSettled()
  assert.equal(c.closes.length, 0)
  const errs = log.lines.filter((l) => l.level === 'error')
  assert.equal(errs.length, 1)
  assert.equal(errs[0]!.msg, 'cannot add the kernel route')
  assert.equal(errs[0]!.fields?.prefix, '10.3.0.0/16')
  assert.equal(errs[0]!.fields?.session, 'r1')
  dataplane.handleTunPacket(ipv4('203.0.113.5', '10.3.1.1'))
  assert.equal(c.sent.length, 1, 'the data plane still routes it')
  reg.closed('r1', 'admin', '', 2)
  await reg.kernelRoutesSettled()
  // The route whose add failed belongs to someone else (the host, or a configured link): never removed.
  assert.ok(k.calls.includes('remove 10.2.0.0/24'))
  assert.ok(!k.calls.includes('remove 10.3.0.0/16'), 'a route this session did not add is left in place')
  assert.equal(log.lines.filter((l) => l.level === 'error').length, 1)
})

test("a router session whose route a configured link already holds does not delete the link's route at close", async () => {
  const k = fakeKernel()
  const { reg } = setup(k.kernel)
  // The gateway installed the link's route at start (outside the registry): the session's add fails with EEXIST.
  k.table.add('10.2.0.0/24')
  const failing: KernelRoutes = {
    add: (p) => (k.table.has(p) ? Promise.reject(new Error('RTNETLINK answers: File exists')) : k.kernel.add(p)),
    remove: (p) => k.kernel.remove(p),
  }
  const { reg: reg2 } = setup(failing)
  void reg
  await bringUp(reg2, carrier('r1'), 'branch1')
  await reg2.kernelRoutesSettled()
  reg2.closed('r1', 'peer-terminated', '', 2)
  await reg2.kernelRoutesSettled()
  assert.ok(k.table.has('10.2.0.0/24'), "the link's route survives the router session")
  assert.ok(!k.table.has('10.3.0.0/16'), 'the route the session added itself is removed')
})

test('a kernel sink that throws synchronously is contained like a rejection', async () => {
  const kernel: KernelRoutes = { add: () => { throw new Error('boom') }, remove: async () => {} }
  const { reg, log } = setup(kernel)
  const c = carrier('r1')
  await bringUp(reg, c, 'branch1')
  await reg.kernelRoutesSettled()
  assert.equal(c.closes.length, 0)
  assert.equal(log.lines.filter((l) => l.level === 'error').length, 2)
})

test('drop and immediate reconnect: the old removal completes before the new add, so the route stays', async () => {
  const k = fakeKernel({ manual: true })
  const { reg } = setup(k.kernel)
  await bringUp(reg, carrier('old'), 'branch1')
  reg.closed('old', 'echo-timeout', 'peer silent', 10)
  await bringUp(reg, carrier('new'), 'branch1')
  // The kernel is slow: only the first add of each prefix has started so far.
  assert.deepEqual(k.calls, ['add 10.2.0.0/24', 'add 10.3.0.0/16'])
  // Settle everything, newest first where possible, as a racing `ip` process could.
  while (k.pending.length > 0) {
    k.pending.pop()!.settle()
    await new Promise((r) => setImmediate(r))
  }
  await reg.kernelRoutesSettled()
  assert.deepEqual(k.calls.filter((c) => c.endsWith('10.2.0.0/24')), ['add 10.2.0.0/24', 'remove 10.2.0.0/24', 'add 10.2.0.0/24'])
  assert.deepEqual([...k.table].sort(), ['10.2.0.0/24', '10.3.0.0/16'], 'the new session\'s routes are in the kernel')
})

test('re-authentication keeps the routes; a repeated up does not attach twice', async () => {
  const k = fakeKernel()
  const { reg } = setup(k.kernel)
  const c = carrier('r1')
  const addr = await bringUp(reg, c, 'branch1')
  const again = await reg.authenticate('r1', PAP('branch1'), 5)
  assert.ok(again.ok)
  assert.deepEqual(again.routes, ['10.2.0.0/24', '10.3.0.0/16'])
  reg.up('r1', addr)
  await reg.kernelRoutesSettled()
  assert.equal(c.closes.length, 0)
  assert.equal(k.calls.length, 2)
})

test('without a kernel sink (no TUN) a router session routes in the data plane only', async () => {
  const { reg, dataplane } = setup(undefined)
  const c = carrier('r1')
  await bringUp(reg, c, 'branch1')
  dataplane.handleTunPacket(ipv4('203.0.113.5', '10.2.0.1'))
  assert.equal(c.sent.length, 1)
  reg.closed('r1', 'admin', '', 2)
  await reg.kernelRoutesSettled()
})

test('linkUp: a dialled link is a session with the peer\'s address and networks, accounted, never touching the pool', async () => {
  const k = fakeKernel()
  const records: string[] = []
  const pool = new AddressPool('198.19.0.0/29')
  pool.allocate()
  const dataplane = new Dataplane({ writeTun: () => {} })
  const reg = new SessionRegistry({
    aaa: { verify: (): AuthVerdict => ({ ok: false, reason: 'x', message: 'x' }) },
    accounting: { start: (r) => records.push(`start ${r.id} ${r.user}`), end: (id, r) => records.push(`end ${id} ${r.reason} ${r.assignedAddress}`), failedAuth: () => {} },
    pool, routes: dataplane, kernelRoutes: k.kernel, log: captureLog(),
  })
  const link = carrier('link-b-1')
  // The peer's tunnel address is inside our own pool (both gateways use the default pool).
  assert.equal(reg.linkUp(link, { user: 'b (as router-a)', peerAddress: '198.19.0.2', routes: ['198.18.72.0/24'] }, 10), undefined)
  assert.equal(pool.isAllocated('198.19.0.2'), false, 'the link did not take a pool address')
  await reg.kernelRoutesSettled()
  assert.deepEqual(k.calls, ['add 198.18.72.0/24'])
  dataplane.handleTunPacket(ipv4('198.18.71.5', '198.18.72.9'))
  assert.equal(link.sent.length, 1)
  reg.ip('link-b-1', ipv4('198.18.72.9', '198.18.71.5'))
  assert.deepEqual(reg.list().map((s) => [s.id, s.user, s.state, s.address, s.routes, s.bytesIn]), [['link-b-1', 'b (as router-a)', 'up', '198.19.0.2', ['198.18.72.0/24'], 20]])
  assert.equal(reg.routesHeld(['198.18.72.0/24']), true)
  assert.equal(reg.routesHeld(['198.18.72.128/25']), true, 'overlap, not only equality')
  assert.equal(reg.routesHeld(['198.18.73.0/24']), false)
  // The pool still owns .2: if it hands it out meanwhile, the link's end must not free it.
  assert.equal(pool.allocate('198.19.0.2'), '198.19.0.2')
  reg.closed('link-b-1', 'echo-timeout', 'peer silent', 20)
  await reg.kernelRoutesSettled()
  assert.deepEqual(k.calls, ['add 198.18.72.0/24', 'remove 198.18.72.0/24'])
  assert.deepEqual(records, ['start link-b-1 b (as router-a)', 'end link-b-1 echo-timeout 198.19.0.2'])
  assert.equal(pool.isAllocated('198.19.0.2'), true)
  assert.equal(reg.routesHeld(['198.18.72.0/24']), false)
})

test('linkUp is refused (and keeps nothing) when the peer already dialled us and holds the routes', async () => {
  const k = fakeKernel()
  const { reg, dataplane } = setup(k.kernel)
  const inbound = carrier('r1')
  await bringUp(reg, inbound, 'branch1') // 10.2.0.0/24, 10.3.0.0/16
  assert.equal(reg.routesHeld(['10.3.9.0/24']), true)
  const link = carrier('link-1')
  const refused = reg.linkUp(link, { user: 'b', peerAddress: '192.0.2.1', routes: ['10.3.0.0/16'] }, 5)
  assert.match(refused ?? '', /10\.3\.0\.0\/16 overlaps 10\.3\.0\.0\/16, routed to the session at 198\.19\.0\.2/)
  assert.deepEqual(reg.list().map((s) => s.id), ['r1'])
  assert.match(reg.linkUp(carrier('r1'), { user: 'b', peerAddress: '192.0.2.1', routes: [] }, 5) ?? '', /exists already/)
  await reg.kernelRoutesSettled()
  assert.equal(k.calls.length, 2, 'only the inbound session\'s adds')
  dataplane.handleTunPacket(ipv4('203.0.113.5', '10.3.1.1'))
  assert.equal(inbound.sent.length, 1)
})

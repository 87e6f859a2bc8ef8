// SessionRegistry: AAA verdict + pool address, data-plane attachment, one record per session.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SessionRegistry, type CarrierSession, type AccountingSink } from '../../src/gateway/sessions.js'
import type { AuthProof, AuthVerdict } from '../../src/auth/types.js'
import { AddressPool } from '../../src/ip/pool.js'
import { Dataplane } from '../../src/dataplane/dataplane.js'
import { nullLogger } from '../../src/lib/log.js'

const PAP = (user: string, password: string): AuthProof => ({ method: 'pap', user, password })

function setup(poolCidr = '198.19.0.0/29') {
  const records: { kind: string; rec: Record<string, unknown> }[] = []
  const accounting: AccountingSink = {
    start: (rec) => records.push({ kind: 'start', rec }),
    end: (id, rec) => records.push({ kind: 'end', rec: { id, ...rec } }),
    failedAuth: (rec) => records.push({ kind: 'failed', rec }),
  }
  const pool = new AddressPool(poolCidr)
  pool.allocate() // the gateway's own address, as Gateway does
  const toTun: Uint8Array[] = []
  const dataplane = new Dataplane({ writeTun: (p) => toTun.push(p) })
  const aaa = { verify: (p: AuthProof): AuthVerdict => (p.method === 'pap' && p.password === 'right' ? { ok: true, user: p.user } : { ok: false, reason: 'bad-credentials', message: 'no' }) }
  const reg = new SessionRegistry({ aaa, accounting, pool, routes: dataplane, log: nullLogger })
  return { reg, records, pool, dataplane, toTun }
}

function carrier(id: string): CarrierSession & { sent: Uint8Array[]; closes: string[] } {
  const sent: Uint8Array[] = []
  const closes: string[] = []
  return { id, protocol: 'sstp', peer: '198.18.0.9:5000', sent, closes, sendIp: (p) => sent.push(p), close: (r) => closes.push(r) }
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

test('success: an address from the pool, a start record, routing both ways, an end record with bytes', async () => {
  const { reg, records, dataplane, toTun } = setup()
  const c = carrier('s1')
  reg.opened(c, 1000)
  const v = await reg.authenticate('s1', PAP('alice', 'right'), 1001)
  assert.ok(v.ok)
  assert.equal(v.address, '198.19.0.2')
  reg.up('s1', '198.19.0.2')
  const fromClient = ipv4('198.19.0.2', '10.0.0.1')
  reg.ip('s1', fromClient)
  assert.equal(toTun.length, 1)
  dataplane.handleTunPackets([ipv4('10.0.0.1', '198.19.0.2')])
  assert.equal(c.sent.length, 1)
  assert.equal(reg.list()[0]!.bytesIn, 20)
  reg.closed('s1', 'peer-disconnected', 'bye', 2000)
  const end = records.find((r) => r.kind === 'end')!.rec
  assert.deepEqual([end.id, end.reason, end.assignedAddress, end.bytesIn, end.bytesOut], ['s1', 'peer-disconnected', '198.19.0.2', 20, 20])
  assert.equal(reg.size, 0)
  assert.equal(dataplane.sessionCount, 0)
})

test('failure: a failed-auth record, no address kept, no start record', async () => {
  const { reg, records, pool } = setup()
  reg.opened(carrier('s1'), 1000)
  const v = await reg.authenticate('s1', PAP('alice', 'wrong'), 1001)
  assert.equal(v.ok, false)
  assert.deepEqual(records.map((r) => r.kind), ['failed'])
  assert.equal(records[0]!.rec.reason, 'bad-credentials')
  assert.equal(pool.inUse(), 1)
  reg.closed('s1', 'auth-failed', '', 1002)
  assert.deepEqual(records.map((r) => r.kind), ['failed'], 'no end record for a session that never started')
})

test('pool exhausted: refused with pool-exhausted; addresses come back when sessions end', async () => {
  const { reg } = setup('198.19.0.0/30') // hosts .1 (gateway) and .2
  reg.opened(carrier('a'), 0)
  reg.opened(carrier('b'), 0)
  assert.ok((await reg.authenticate('a', PAP('alice', 'right'), 1)).ok)
  const v = await reg.authenticate('b', PAP('bob', 'right'), 1)
  assert.equal(v.ok, false)
  assert.equal(!v.ok && v.reason, 'pool-exhausted')
  reg.closed('a', 'admin', '', 2)
  assert.ok((await reg.authenticate('b', PAP('bob', 'right'), 3)).ok)
})

test('closeAll asks every carrier to close and resolves when the last one ends', async () => {
  const { reg } = setup()
  const a = carrier('a'); const b = carrier('b')
  reg.opened(a, 0); reg.opened(b, 0)
  const done = reg.closeAll('admin', 'shutdown', 5000)
  assert.deepEqual([a.closes, b.closes], [['admin'], ['admin']])
  reg.closed('a', 'admin', '', 1)
  reg.closed('b', 'admin', '', 1)
  await done
  assert.equal(reg.size, 0)
})

test('a backend that throws becomes backend-error, not a crash', async () => {
  const { reg, records } = setup()
  ;(reg as unknown as { aaa: { verify: () => never } }).aaa = { verify: () => { throw new Error('db locked') } }
  reg.opened(carrier('s'), 0)
  const v = await reg.authenticate('s', PAP('alice', 'right'), 1)
  assert.equal(!v.ok && v.reason, 'backend-error')
  assert.equal(records[0]!.kind, 'failed')
})

test('re-authentication (LCP renegotiated) keeps address and record; another user is refused', async () => {
  const { reg, records, pool } = setup()
  reg.opened(carrier('s1'), 0)
  const first = await reg.authenticate('s1', PAP('alice', 'right'), 1)
  assert.ok(first.ok)
  reg.up('s1', first.address!)
  const again = await reg.authenticate('s1', PAP('alice', 'right'), 2)
  assert.ok(again.ok)
  assert.equal(again.address, first.address)
  assert.equal(records.filter((r) => r.kind === 'start').length, 1, 'one record per session')
  assert.equal(pool.inUse(), 2, 'gateway + one client address')
  const other = await reg.authenticate('s1', PAP('mallory', 'right'), 3)
  assert.equal(!other.ok && other.reason, 'reauth-user-changed')
})

test('an accounting store that throws (disk full) is logged, never thrown into the connection', async () => {
  const { reg } = setup()
  const failing = { start: () => { throw new Error('SQLITE_FULL') }, end: () => { throw new Error('SQLITE_FULL') }, failedAuth: () => { throw new Error('SQLITE_FULL') } }
  ;(reg as unknown as { accounting: unknown }).accounting = failing
  reg.opened(carrier('a'), 0)
  reg.opened(carrier('b'), 0)
  assert.ok((await reg.authenticate('a', PAP('alice', 'right'), 1)).ok)
  assert.equal((await reg.authenticate('b', PAP('bob', 'wrong'), 1)).ok, false)
  reg.up('a', '198.19.0.2')
  reg.closed('a', 'admin', '', 2)
  assert.equal(reg.size, 1)
})

test('a connection that ends while AAA is still deciding gets no address and no record', async () => {
  const { reg, records, pool } = setup()
  let answer!: (v: AuthVerdict) => void
  ;(reg as unknown as { aaa: unknown }).aaa = { verify: () => new Promise<AuthVerdict>((r) => { answer = r }) }
  reg.opened(carrier('s'), 0)
  const pending = reg.authenticate('s', PAP('alice', 'right'), 1)
  reg.closed('s', 'eof', 'client left', 2)
  answer({ ok: true, user: 'alice' })
  const v = await pending
  assert.equal(!v.ok && v.reason, 'no-session')
  assert.equal(pool.inUse(), 1, 'only the gateway address')
  assert.deepEqual(records, [])
})

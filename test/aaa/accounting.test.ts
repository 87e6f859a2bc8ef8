// SessionLog: start/update/end, refused logins, listing, crash durability and recovery at start-up.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { SessionLog } from '../../src/aaa/accounting.js'
import { UserStore } from '../../src/aaa/user-store.js'
import { VpnError } from '../../src/lib/errors.js'

const isErr = (code: string) => (e: unknown): boolean => e instanceof VpnError && e.code === code
const tmp = (): string => mkdtempSync(join(tmpdir(), 'gh-acct-'))

test('a session from start to end', () => {
  const store = UserStore.open(':memory:', { scryptN: 1024 })
  const log = store.sessionLog()
  log.start({ id: 's1', user: 'alice', protocol: 'sstp', peer: '198.18.0.7:50123', start: 1000 })
  assert.deepEqual(log.get('s1'), { id: 's1', kind: 'session', user: 'alice', protocol: 'sstp', peer: '198.18.0.7:50123', start: 1000, bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 })
  log.update('s1', { assignedAddress: '198.19.0.2', bytesIn: 100, packetsIn: 2 })
  log.update('s1', { bytesOut: 50 })
  assert.deepEqual(log.get('s1'), { id: 's1', kind: 'session', user: 'alice', protocol: 'sstp', peer: '198.18.0.7:50123', start: 1000, assignedAddress: '198.19.0.2', bytesIn: 100, bytesOut: 50, packetsIn: 2, packetsOut: 0 })
  log.end('s1', { end: 61_000, bytesIn: 1500, bytesOut: 900, packetsIn: 12, packetsOut: 9, reason: 'client-disconnect' })
  assert.deepEqual(log.get('s1'), { id: 's1', kind: 'session', user: 'alice', protocol: 'sstp', peer: '198.18.0.7:50123', start: 1000, end: 61_000, assignedAddress: '198.19.0.2', bytesIn: 1500, bytesOut: 900, packetsIn: 12, packetsOut: 9, reason: 'client-disconnect' })
  // misuse is a gateway bug: loud
  assert.throws(() => log.end('s1', { end: 62_000, bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0, reason: 'x' }), isErr('ERR_ACCOUNTING'))
  assert.throws(() => log.update('s1', { bytesIn: 1 }), isErr('ERR_ACCOUNTING'))
  assert.throws(() => log.update('nope', { bytesIn: 1 }), isErr('ERR_ACCOUNTING'))
  assert.throws(() => log.start({ id: 's1', user: 'bob', protocol: 'sstp', peer: 'p', start: 1 }), isErr('ERR_ACCOUNTING'))
  log.start({ id: 's2', user: 'bob', protocol: 'sstp', peer: 'p', start: 1 })
  assert.throws(() => log.update('s2', { bytesIn: -1 }), isErr('ERR_ACCOUNTING'))
  store.close()
})

test('refused logins are recorded; list is newest first with limit and user filter', () => {
  const log = new SessionLog(UserStore.open(":memory:", { scryptN: 1024 }).database, true)
  log.start({ id: 'a', user: 'alice', protocol: 'sstp', peer: '198.18.0.7:1', start: 10 })
  const f = log.failedAuth({ user: 'mallory', protocol: 'sstp', peer: '198.18.0.9:2', at: 20, reason: 'bad-credentials' })
  log.start({ id: 'b', user: 'Alice', protocol: 'sstp', peer: '198.18.0.7:3', start: 30 })
  const all = log.list()
  assert.deepEqual(all.map((r) => r.id), ['b', f, 'a'])
  assert.deepEqual(all[1], { id: f, kind: 'failed-auth', user: 'mallory', protocol: 'sstp', peer: '198.18.0.9:2', start: 20, end: 20, reason: 'bad-credentials', bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 })
  assert.deepEqual(log.list({ limit: 1 }).map((r) => r.id), ['b'])
  assert.deepEqual(log.list({ user: 'alice' }).map((r) => r.id), ['b', 'a'])
  assert.deepEqual(log.list({ user: 'nobody' }), [])
  log.close()
})

test('refused-login records stay bounded: old ones and all but the newest N are pruned; sessions never', () => {
  const log = new SessionLog(UserStore.open(':memory:', { scryptN: 1024 }).database, true)
  const DAY = 86_400_000
  log.start({ id: 's', user: 'alice', protocol: 'sstp', peer: '198.18.0.7:1', start: 0 })
  for (let i = 0; i < 10; i++) log.failedAuth({ user: `u${i}`, protocol: 'sstp', peer: '198.18.0.9:2', at: i * DAY, reason: 'bad-credentials' })
  // At day 100 with 90 days' retention: days 0..9 are all older than day 10 -> gone.
  assert.equal(log.pruneFailedAuth(100 * DAY, 1000, 90), 10)
  for (let i = 0; i < 10; i++) log.failedAuth({ user: `v${i}`, protocol: 'sstp', peer: '198.18.0.9:2', at: 100 * DAY + i, reason: 'no-such-user' })
  assert.equal(log.pruneFailedAuth(100 * DAY + 10, 3, 90), 7)
  const left = log.list()
  assert.deepEqual(left.filter((r) => r.kind === 'failed-auth').map((r) => r.user), ['v9', 'v8', 'v7'])
  assert.equal(left.filter((r) => r.kind === 'session').length, 1, 'the session record stays')
  // failedAuth prunes by itself every 1000 inserts (default cap 100000 is not reached here, age is).
  for (let i = 0; i < 1000; i++) log.failedAuth({ user: 'spray', protocol: 'sstp', peer: '198.18.0.9:2', at: 300 * DAY, reason: 'no-such-user' })
  assert.equal(log.list({ user: 'v9' }).length, 0, 'records older than 90 days went on the 1000th insert')
  log.close()
})

test('recoverOpen closes sessions left open by a crash with reason gateway-restart', () => {
  const dir = tmp()
  const path = join(dir, 'users.db')
  try {
    const log1 = SessionLog.open(path)
    log1.start({ id: 'done', user: 'alice', protocol: 'sstp', peer: 'p', start: 100 })
    log1.end('done', { end: 200, bytesIn: 1, bytesOut: 2, packetsIn: 3, packetsOut: 4, reason: 'client-disconnect' })
    log1.start({ id: 'open1', user: 'bob', protocol: 'sstp', peer: 'p', start: 300 })
    log1.update('open1', { bytesIn: 77, assignedAddress: '198.19.0.3' })
    log1.start({ id: 'open2', user: 'carol', protocol: 'sstp', peer: 'p', start: 400 })
    log1.close() // no end(): as if the gateway died
    const log2 = SessionLog.open(path)
    assert.equal(log2.recoverOpen(5000), 2)
    assert.equal(log2.recoverOpen(6000), 0)
    assert.deepEqual(log2.get('open1'), { id: 'open1', kind: 'session', user: 'bob', protocol: 'sstp', peer: 'p', start: 300, end: 5000, assignedAddress: '198.19.0.3', bytesIn: 77, bytesOut: 0, packetsIn: 0, packetsOut: 0, reason: 'gateway-restart' })
    assert.equal(log2.get('open2')?.reason, 'gateway-restart')
    assert.equal(log2.get('done')?.reason, 'client-disconnect')
    assert.equal(log2.get('done')?.end, 200)
    log2.close()
  } finally { rmSync(dir, { recursive: true, force: true }) }
})

test('a process killed with SIGKILL loses nothing already ended', () => {
  const dir = tmp()
  const path = join(dir, 'users.db')
  const mod = fileURLToPath(new URL('../../src/aaa/accounting.js', import.meta.url))
  const script = `
    const { SessionLog } = await import(${JSON.stringify(mod)})
    const log = SessionLog.open(${JSON.stringify(path)})
    for (let i = 0; i < 50; i++) {
      log.start({ id: 's' + i, user: 'u', protocol: 'sstp', peer: 'p', start: i })
      log.end('s' + i, { end: i + 1, bytesIn: i, bytesOut: 0, packetsIn: 0, packetsOut: 0, reason: 'client-disconnect' })
    }
    log.start({ id: 'live', user: 'u', protocol: 'sstp', peer: 'p', start: 99 })
    log.failedAuth({ user: 'x', protocol: 'sstp', peer: 'p', at: 100, reason: 'locked' })
    process.kill(process.pid, 'SIGKILL')`
  try {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
    assert.equal(r.signal, 'SIGKILL', r.stderr)
    const log = SessionLog.open(path)
    const recs = log.list({ limit: 1000 })
    assert.equal(recs.filter((x) => x.kind === 'session' && x.reason === 'client-disconnect').length, 50)
    assert.equal(recs.filter((x) => x.kind === 'failed-auth').length, 1)
    assert.equal(log.recoverOpen(200), 1)
    assert.equal(log.get('live')?.reason, 'gateway-restart')
    log.close()
  } finally { rmSync(dir, { recursive: true, force: true }) }
})

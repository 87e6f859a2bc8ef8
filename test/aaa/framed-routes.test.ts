// Router accounts (src/aaa/framed-routes.ts + UserStore): route validation and normalisation,
// overlap refusals naming the conflict, the verdict's routes, storage and the schema-2 migration.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { AuthProof } from '../../src/auth/types.js'
import { generateNtResponse, ntPasswordHash } from '../../src/auth/mschapv2.js'
import { checkRouteConflicts, MAX_ROUTES_PER_USER, normaliseRoutes, prefixesOverlap } from '../../src/aaa/framed-routes.js'
import { migrate } from '../../src/aaa/database.js'
import { hashPassword } from '../../src/aaa/password-hash.js'
import { UserStore } from '../../src/aaa/user-store.js'
import { parsePrefix } from '../../src/ip/prefix.js'
import { VpnError } from '../../src/lib/errors.js'

const FAST = { scryptN: 1 << 10 }
const PW = 'Correct-Horse-42'
const POOL = { prefix: '198.19.0.0/24', what: 'the client address pool (config pool)' }
/** Matches a VpnError by code and (when given) a message pattern. */
const err = (code: string, message?: RegExp) => (e: unknown): boolean =>
  e instanceof VpnError && e.code === code && (message === undefined || message.test(e.message))
const pap = (user: string, password: string): AuthProof => ({ method: 'pap', user, password })

test('normaliseRoutes: canonical texts in the given order; a bare address is a /32', () => {
  assert.deepEqual(normaliseRoutes(['10.2.0.0/24', ' 10.3.0.0/16 ', '192.0.2.7', '172.16.0.0/12']),
    ['10.2.0.0/24', '10.3.0.0/16', '192.0.2.7/32', '172.16.0.0/12'])
  assert.deepEqual(normaliseRoutes([]), [])
  assert.deepEqual(normaliseRoutes(['1.0.0.0/8', '223.255.255.255/32']), ['1.0.0.0/8', '223.255.255.255/32'], 'edges of the unicast space')
})

test('normaliseRoutes refuses malformed prefixes, naming the item', () => {
  for (const bad of ['', 'x', '10.2.0/24', '10.2.0.0/33', '10.2.0.0/', '10.02.0.0/24', '10.2.0.0/024', '256.0.0.0/8', '10.2.0.0/24/1', '::1/128']) {
    assert.throws(() => normaliseRoutes([bad]), err('ERR_BAD_ROUTE', /not an IPv4 prefix/), JSON.stringify(bad))
  }
})

test('normaliseRoutes refuses host bits, naming the canonical form', () => {
  assert.throws(() => normaliseRoutes(['10.2.0.1/24']), err('ERR_BAD_ROUTE', /^10\.2\.0\.1\/24 has host bits set; the prefix is 10\.2\.0\.0\/24$/))
  assert.throws(() => normaliseRoutes(['10.3.255.0/16']), err('ERR_BAD_ROUTE', /the prefix is 10\.3\.0\.0\/16/))
  assert.throws(() => normaliseRoutes(['10.2.0.0/24', '10.9.9.9/8']), err('ERR_BAD_ROUTE', /10\.0\.0\.0\/8/), 'any item in the list')
})

test('normaliseRoutes refuses the default route and the never-routed ranges (incl. the two-halves trick)', () => {
  assert.throws(() => normaliseRoutes(['0.0.0.0/0']), err('ERR_BAD_ROUTE', /may not take the default route/))
  assert.throws(() => normaliseRoutes(['0.0.0.0/1']), err('ERR_BAD_ROUTE', /overlaps 0\.0\.0\.0\/8/))
  assert.throws(() => normaliseRoutes(['128.0.0.0/1']), err('ERR_BAD_ROUTE', /^128\.0\.0\.0\/1 overlaps .* never routed to a peer$/))
  assert.throws(() => normaliseRoutes(['127.0.0.0/8']), err('ERR_BAD_ROUTE', /loopback/))
  assert.throws(() => normaliseRoutes(['127.1.2.3/32']), err('ERR_BAD_ROUTE', /loopback/))
  assert.throws(() => normaliseRoutes(['169.254.0.0/16']), err('ERR_BAD_ROUTE', /link-local/))
  assert.throws(() => normaliseRoutes(['224.0.0.5/32']), err('ERR_BAD_ROUTE', /multicast/))
  assert.throws(() => normaliseRoutes(['255.255.255.255/32']), err('ERR_BAD_ROUTE', /broadcast/))
  assert.throws(() => normaliseRoutes(['0.1.2.3/32']), err('ERR_BAD_ROUTE', /this network/))
})

test('normaliseRoutes refuses duplicates and nested prefixes within one list, and too many', () => {
  assert.throws(() => normaliseRoutes(['10.2.0.0/24', '10.2.0.0/24']), err('ERR_BAD_ROUTE', /10\.2\.0\.0\/24 overlaps 10\.2\.0\.0\/24 in the same list/))
  assert.throws(() => normaliseRoutes(['10.2.0.0/16', '10.2.3.0/24']), err('ERR_BAD_ROUTE', /10\.2\.3\.0\/24 overlaps 10\.2\.0\.0\/16/))
  assert.throws(() => normaliseRoutes(['10.2.3.0/24', '10.2.0.0/16']), err('ERR_BAD_ROUTE', /10\.2\.0\.0\/16 overlaps 10\.2\.3\.0\/24/))
  assert.throws(() => normaliseRoutes(['10.2.0.0/24', '10.2.0.1']), err('ERR_BAD_ROUTE', /same list/), 'a bare address inside a prefix')
  const many = Array.from({ length: MAX_ROUTES_PER_USER + 1 }, (_, i) => `10.${i}.0.0/16`)
  assert.throws(() => normaliseRoutes(many), err('ERR_BAD_ROUTE', /at most 64 routes/))
  assert.equal(normaliseRoutes(many.slice(0, MAX_ROUTES_PER_USER)).length, MAX_ROUTES_PER_USER)
})

test('prefixesOverlap: equal, containing, contained, adjacent, disjoint', () => {
  const o = (a: string, b: string): boolean => prefixesOverlap(parsePrefix(a), parsePrefix(b))
  assert.equal(o('10.2.0.0/24', '10.2.0.0/24'), true)
  assert.equal(o('10.0.0.0/8', '10.2.0.0/24'), true)
  assert.equal(o('10.2.0.0/24', '10.0.0.0/8'), true)
  assert.equal(o('10.2.0.255/32', '10.2.0.0/24'), true, 'last address')
  assert.equal(o('10.0.0.0/25', '10.0.0.128/25'), false, 'adjacent halves')
  assert.equal(o('10.2.1.0/24', '10.2.0.0/24'), false)
  assert.equal(o('10.2.0.0/24', '10.2.1.0/32'), false, 'first address after the prefix')
  assert.equal(o('9.255.255.255/32', '10.0.0.0/8'), false, 'last address before the prefix')
})

test('checkRouteConflicts names the pool, a config route or the other account; skips the same account and /0 config routes', () => {
  const others = [{ user: 'branch1', prefix: '10.2.0.0/24' }, { user: 'Branch2', prefix: '10.8.0.0/16' }]
  const reserved = [POOL, { prefix: '192.168.50.0/24', what: 'a network behind this gateway (config routes)' }, { prefix: '0.0.0.0/0', what: 'full tunnel' }]
  assert.throws(() => checkRouteConflicts('b3', ['198.19.0.0/16'], others, reserved), err('ERR_ROUTE_CONFLICT', /^198\.19\.0\.0\/16 overlaps 198\.19\.0\.0\/24, the client address pool \(config pool\)$/))
  assert.throws(() => checkRouteConflicts('b3', ['198.19.0.128/25'], others, reserved), err('ERR_ROUTE_CONFLICT', /client address pool/))
  assert.throws(() => checkRouteConflicts('b3', ['192.168.50.9/32'], others, reserved), err('ERR_ROUTE_CONFLICT', /config routes/))
  assert.throws(() => checkRouteConflicts('b3', ['10.0.0.0/8'], others, reserved), err('ERR_ROUTE_CONFLICT', /^10\.0\.0\.0\/8 overlaps 10\.2\.0\.0\/24 of router account branch1$/))
  assert.throws(() => checkRouteConflicts('b3', ['10.8.7.0/24'], others, reserved), err('ERR_ROUTE_CONFLICT', /of router account Branch2$/))
  checkRouteConflicts('b3', ['10.3.0.0/16', '172.16.0.0/12'], others, reserved) // a /0 config route is no conflict
  checkRouteConflicts('BRANCH1', ['10.2.0.0/23'], others, reserved) // its own old routes do not conflict (names ignore case)
})

test('UserStore: a router account gets its routes in the verdict; an ordinary user gets none', () => {
  const s = UserStore.open(':memory:', { ...FAST, reservedPrefixes: [POOL] })
  try {
    s.add('branch1', PW, { routes: ['10.2.0.0/24', '10.3.0.0/16'] })
    s.add('alice', PW)
    assert.deepEqual(s.verify(pap('branch1', PW), 1000), { ok: true, user: 'branch1', routes: ['10.2.0.0/24', '10.3.0.0/16'] })
    assert.deepEqual(s.verify(pap('BRANCH1', PW), 1000), { ok: true, user: 'branch1', routes: ['10.2.0.0/24', '10.3.0.0/16'] })
    assert.deepEqual(s.verify(pap('alice', PW), 1000), { ok: true, user: 'alice' })
    const a = new Uint8Array(16).fill(1), p = new Uint8Array(16).fill(2)
    const v = s.verify({ method: 'mschapv2', user: 'branch1', authenticatorChallenge: a, peerChallenge: p, ntResponse: generateNtResponse(a, p, 'branch1', PW) }, 1000)
    assert.ok(v.ok)
    assert.deepEqual(v.routes, ['10.2.0.0/24', '10.3.0.0/16'])
    const bad = s.verify(pap('branch1', 'wrong'), 1000)
    assert.equal(bad.ok, false)
    assert.equal('routes' in bad, false, 'a refusal carries no routes')
    assert.deepEqual(s.list().map((u) => [u.name, u.routes]), [['alice', []], ['branch1', ['10.2.0.0/24', '10.3.0.0/16']]])
    assert.deepEqual(s.routes('BRANCH1'), ['10.2.0.0/24', '10.3.0.0/16'])
  } finally { s.close() }
})

test('UserStore.add refuses overlapping routes naming the account, and stores nothing then', () => {
  const s = UserStore.open(':memory:', { ...FAST, reservedPrefixes: [POOL] })
  try {
    s.add('branch1', PW, { routes: ['10.2.0.0/24'] })
    assert.throws(() => s.add('branch2', PW, { routes: ['10.3.0.0/16', '10.2.0.0/16'] }), err('ERR_ROUTE_CONFLICT', /10\.2\.0\.0\/16 overlaps 10\.2\.0\.0\/24 of router account branch1/))
    assert.throws(() => s.add('branch3', PW, { routes: ['10.2.0.128/25'] }), err('ERR_ROUTE_CONFLICT', /router account branch1/))
    assert.throws(() => s.add('branch4', PW, { routes: ['198.19.0.0/16'] }), err('ERR_ROUTE_CONFLICT', /client address pool/))
    assert.throws(() => s.add('branch5', PW, { routes: ['10.5.0.1/24'] }), err('ERR_BAD_ROUTE', /10\.5\.0\.0\/24/))
    assert.deepEqual(s.list().map((u) => u.name), ['branch1'], 'no half-added users')
    assert.deepEqual(s.checkRoutes('branch2', ['10.3.0.0/16']), ['10.3.0.0/16'])
    assert.throws(() => s.checkRoutes('branch2', ['10.2.0.0/16']), err('ERR_ROUTE_CONFLICT', /branch1/))
    // The unique index is the last line of defence under the same (network, length).
    assert.throws(() => s.database.prepare("INSERT INTO user_routes (user, prefix, network, length) VALUES ('branch1', 'dup', ?, 24)").run(0x0a020000))
  } finally { s.close() }
})

test('UserStore.setRoutes replaces, clears and refuses; del frees the prefixes for another account', () => {
  const s = UserStore.open(':memory:', { ...FAST, reservedPrefixes: [POOL] })
  try {
    s.add('branch1', PW, { routes: ['10.2.0.0/24'] })
    s.add('branch2', PW)
    s.setRoutes('branch1', ['10.2.0.0/23', '10.9.0.0/16']) // grows over its own old prefix
    assert.deepEqual(s.routes('branch1'), ['10.2.0.0/23', '10.9.0.0/16'])
    assert.throws(() => s.setRoutes('branch2', ['10.9.128.0/17']), err('ERR_ROUTE_CONFLICT', /of router account branch1/))
    assert.deepEqual(s.routes('branch2'), [], 'a refused set changes nothing')
    assert.throws(() => s.setRoutes('nobody', ['10.7.0.0/16']), err('ERR_NO_SUCH_USER'))
    assert.throws(() => s.setRoutes('branch2', ['0.0.0.0/0']), err('ERR_BAD_ROUTE', /default route/))
    s.setRoutes('branch1', [])
    assert.deepEqual(s.verify(pap('branch1', PW), 1), { ok: true, user: 'branch1' }, 'an ordinary user again')
    s.setRoutes('branch2', ['10.9.0.0/16'])
    s.del('branch2')
    assert.equal((s.database.prepare('SELECT COUNT(*) AS n FROM user_routes').get() as { n: number }).n, 0, 'routes go with the user')
    s.add('branch3', PW, { routes: ['10.9.0.0/16'] })
    assert.deepEqual(s.routes('branch3'), ['10.9.0.0/16'])
  } finally { s.close() }
})

test('two stores on one file (gateway and CLI): the check sees the other writer\'s routes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-routes-'))
  const path = join(dir, 'users.db')
  try {
    const a = UserStore.open(path, FAST), b = UserStore.open(path, FAST)
    a.add('branch1', PW, { routes: ['10.2.0.0/24'] })
    assert.throws(() => b.add('branch2', PW, { routes: ['10.2.0.0/16'] }), err('ERR_ROUTE_CONFLICT', /branch1/))
    assert.deepEqual(b.verify(pap('branch1', PW), 1), { ok: true, user: 'branch1', routes: ['10.2.0.0/24'] })
    a.close(); b.close()
  } finally { rmSync(dir, { recursive: true, force: true }) }
})

test('migration 1 -> 2: a database written by the previous schema keeps its users and gains routes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-mig2-'))
  const path = join(dir, 'users.db')
  try {
    // The previous Gatehouse: schema version 1 only, one user and one session record.
    const old = new Database(path)
    migrate(old, 1)
    const tables = (): number => (old.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'user_routes'").get() as { n: number }).n
    assert.equal(tables(), 0, 'version 1 has no routes table')
    old.prepare('INSERT INTO users (name, created, pw_hash, nt_hash, secret) VALUES (?, ?, ?, ?, NULL)').run('branch1', 5, hashPassword(PW, FAST.scryptN), ntPasswordHash(PW))
    old.prepare("INSERT INTO records (id, kind, user, protocol, peer, start) VALUES ('r1', 'session', 'branch1', 'sstp', '198.18.0.9:1', 7)").run()
    old.close()

    const s = UserStore.open(path, FAST)
    assert.deepEqual((s.database.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version), [1, 2])
    assert.deepEqual(s.verify(pap('branch1', PW), 10), { ok: true, user: 'branch1' }, 'old users log in as before, with no routes')
    assert.deepEqual(s.list().map((u) => [u.name, u.created, u.routes]), [['branch1', 5, []]])
    assert.equal(s.sessionLog().list({ limit: 5 }).length, 1, 'records survive')
    s.setRoutes('branch1', ['10.2.0.0/24'])
    s.close()
    const again = UserStore.open(path, FAST)
    assert.deepEqual(again.routes('branch1'), ['10.2.0.0/24'], 'routes persist; reopening migrates nothing twice')
    again.close()
  } finally { rmSync(dir, { recursive: true, force: true }) }
})

test('routeConflicts lists stored routes that a changed pool or config route now overlaps', () => {
  const s = UserStore.open(':memory:', { ...FAST, reservedPrefixes: [POOL] })
  try {
    s.add('branch1', PW, { routes: ['10.2.0.0/24', '10.3.0.0/16'] })
    s.add('branch2', PW, { routes: ['172.16.0.0/12'] })
    assert.deepEqual(s.routeConflicts(), [])
    // The administrator moved the pool into branch1's network and announces 172.16.5.0/24 itself.
    assert.deepEqual(s.routeConflicts([{ prefix: '10.3.128.0/24', what: 'the client address pool (config pool)' }, { prefix: '172.16.5.0/24', what: 'config routes' }]), [
      'router account branch1: 10.3.0.0/16 overlaps 10.3.128.0/24, the client address pool (config pool)',
      'router account branch2: 172.16.0.0/12 overlaps 172.16.5.0/24, config routes',
    ])
  } finally { s.close() }
})

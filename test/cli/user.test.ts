// `gatehouse user` with router accounts, run as the real command: add --routes (refusals name the
// conflict and come before the password prompt), set --routes / --no-routes, list and list --json.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '../../..')
const BIN = join(ROOT, 'bin/gatehouse.js')
const PW = 'Correct-Horse-42-battery'
let tmp = ''
let dir = ''

function gh(args: string[], input = ''): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 30_000 })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'gh-cli-user-'))
  dir = join(tmp, 'gw')
  const init = gh(['init', '--dir', dir, '--listen', '127.0.0.1', '--pool', '198.19.0.0/24'])
  assert.equal(init.code, 0, init.err)
  // A network the gateway itself announces (config routes) is reserved too.
  const cfg = join(dir, 'gatehouse.yaml')
  writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(/^routes: .*$/m, 'routes: ["192.168.50.0/24"]'))
})
after(() => { rmSync(tmp, { recursive: true, force: true }) })

test('user add --routes creates a router account; list shows the routes', () => {
  const r = gh(['user', 'add', '--dir', dir, 'branch1', '--routes', '10.2.0.0/24, 10.3.0.0/16'], PW + '\n')
  assert.equal(r.code, 0, r.err)
  assert.equal(r.out, 'router account branch1 added, routes 10.2.0.0/24, 10.3.0.0/16\n')
  assert.equal(gh(['user', 'add', '--dir', dir, 'alice'], PW + '\n').code, 0)
  const list = gh(['user', 'list', '--dir', dir])
  assert.equal(list.out, 'alice\nbranch1  (routes 10.2.0.0/24,10.3.0.0/16)\n')
  const json = JSON.parse(gh(['user', 'list', '--dir', dir, '--json']).out) as { name: string; routes: string[] }[]
  assert.deepEqual(json.map((u) => [u.name, u.routes]), [['alice', []], ['branch1', ['10.2.0.0/24', '10.3.0.0/16']]])
})

test('user add refuses conflicting or malformed routes with the conflict named, before reading a password', () => {
  const cases: [string, RegExp][] = [
    ['10.2.0.0/16', /^gatehouse user: 10\.2\.0\.0\/16 overlaps 10\.2\.0\.0\/24 of router account branch1\n$/],
    ['198.19.0.0/25', /overlaps 198\.19\.0\.0\/24, the client address pool \(config pool\)/],
    ['192.168.50.128/25', /overlaps 192\.168\.50\.0\/24, a network behind this gateway \(config routes\)/],
    ['10.4.0.1/24', /10\.4\.0\.1\/24 has host bits set; the prefix is 10\.4\.0\.0\/24/],
    ['0.0.0.0/0', /may not take the default route/],
  ]
  for (const [routes, message] of cases) {
    const r = gh(['user', 'add', '--dir', dir, 'branch2', '--routes', routes]) // no password on stdin at all
    assert.equal(r.code, 1, routes)
    assert.match(r.err, message, routes)
  }
  assert.doesNotMatch(gh(['user', 'list', '--dir', dir]).out, /branch2/, 'nothing was added')
})

test('user set --routes replaces, --no-routes clears; usage errors are clear', () => {
  const set = gh(['user', 'set', '--dir', dir, 'alice', '--routes', '10.7.0.0/16'])
  assert.equal(set.code, 0, set.err)
  assert.equal(set.out, 'routes of alice: 10.7.0.0/16 (from its next login)\n')
  const clash = gh(['user', 'set', '--dir', dir, 'alice', '--routes', '10.3.9.0/24'])
  assert.equal(clash.code, 1)
  assert.match(clash.err, /of router account branch1/)
  const clear = gh(['user', 'set', '--dir', dir, 'alice', '--no-routes'])
  assert.equal(clear.out, 'alice has no routes now (from its next login)\n')
  assert.match(gh(['user', 'list', '--dir', dir]).out, /^alice\n/m)
  for (const args of [['alice'], ['alice', '--routes', '10.8.0.0/16', '--no-routes'], ['alice', '--routes', '']]) {
    const r = gh(['user', 'set', '--dir', dir, ...args])
    assert.equal(r.code, 1, args.join(' '))
    assert.match(r.err, /--routes|--no-routes/, args.join(' '))
  }
  const nobody = gh(['user', 'set', '--dir', dir, 'nobody', '--routes', '10.8.0.0/16'])
  assert.equal(nobody.code, 1)
  assert.match(nobody.err, /no user nobody/)
})

// `gatehouse init --protocols`, run as the real command: PPTP and plain L2TP are off unless named;
// plain L2TP needs its own flag, and the refusal says why.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const BIN = join(resolve(import.meta.dirname, '../../..'), 'bin/gatehouse.js')
const tmp = mkdtempSync(join(tmpdir(), 'gh-cli-init-'))
after(() => { rmSync(tmp, { recursive: true, force: true }) })

function init(name: string, ...extra: string[]): { code: number | null; err: string; yaml: string } {
  const dir = join(tmp, name)
  const r = spawnSync(process.execPath, [BIN, 'init', '--dir', dir, '--listen', '127.0.0.1', ...extra], { encoding: 'utf8', timeout: 30_000 })
  const file = join(dir, 'gatehouse.yaml')
  return { code: r.status, err: r.stderr, yaml: existsSync(file) ? readFileSync(file, 'utf8') : '' }
}

test('default: SSTP only', () => {
  const r = init('a')
  assert.equal(r.code, 0, r.err)
  assert.match(r.yaml, /^protocols: \["sstp"\]$/m)
  assert.match(r.yaml, /^\s+allowWithoutIpsec: false$/m)
})

test('--protocols sstp,pptp enables PPTP', () => {
  const r = init('b', '--protocols', 'sstp,pptp')
  assert.equal(r.code, 0, r.err)
  assert.match(r.yaml, /^protocols: \["sstp","pptp"\]$/m)
})

test('plain L2TP is refused without --l2tp-without-ipsec (nothing written), accepted with it', () => {
  const no = init('c', '--protocols', 'sstp,l2tp')
  assert.notEqual(no.code, 0)
  assert.match(no.err, /allowWithoutIpsec/)
  assert.equal(no.yaml, '', 'nothing written on refusal')
  const yes = init('d', '--protocols', 'sstp,l2tp', '--l2tp-without-ipsec')
  assert.equal(yes.code, 0, yes.err)
  assert.match(yes.yaml, /^\s+allowWithoutIpsec: true$/m)
})

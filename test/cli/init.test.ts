// `gatehouse init --protocols`, run as the real command: PPTP and L2TP/IPsec are off unless named; plain
// L2TP needs its own flag; a pre-shared key is generated (shown once) or read from a file, stored 0600.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, readFileSync, existsSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const BIN = join(resolve(import.meta.dirname, '../../..'), 'bin/gatehouse.js')
const tmp = mkdtempSync(join(tmpdir(), 'gh-cli-init-'))
after(() => { rmSync(tmp, { recursive: true, force: true }) })

function init(name: string, ...extra: string[]): { code: number | null; err: string; out: string; yaml: string; dir: string } {
  const dir = join(tmp, name)
  const r = spawnSync(process.execPath, [BIN, 'init', '--dir', dir, '--listen', '127.0.0.1', ...extra], { encoding: 'utf8', timeout: 30_000 })
  const file = join(dir, 'gatehouse.yaml')
  return { code: r.status, err: r.stderr, out: r.stdout, yaml: existsSync(file) ? readFileSync(file, 'utf8') : '', dir }
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

test('l2tp is L2TP/IPsec with certificates by default; plain L2TP only with --l2tp-without-ipsec', () => {
  const cert = init('c', '--protocols', 'sstp,l2tp')
  assert.equal(cert.code, 0, cert.err)
  assert.match(cert.yaml, /^\s+allowWithoutIpsec: false$/m)
  assert.match(cert.yaml, /^\s+auth: \["certificate"\]$/m)
  assert.ok(!existsSync(join(cert.dir, 'ipsec.psk')), 'no pre-shared key unless asked for')
  assert.match(cert.out, /gatehouse ca issue --dir .* --client --p12/)
  const yes = init('d', '--protocols', 'sstp,l2tp', '--l2tp-without-ipsec')
  assert.equal(yes.code, 0, yes.err)
  assert.match(yes.yaml, /^\s+allowWithoutIpsec: true$/m)
})

test('--psk generates a long random key, stores it 0600 and shows it once with the shared-key warning', () => {
  const r = init('e', '--protocols', 'sstp,l2tp', '--psk')
  assert.equal(r.code, 0, r.err)
  const key = readFileSync(join(r.dir, 'ipsec.psk'), 'utf8').trim()
  assert.match(key, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url')
  assert.equal(statSync(join(r.dir, 'ipsec.psk')).mode & 0o777, 0o600)
  assert.equal(r.out.split(key).length - 1, 1, 'the key is printed exactly once')
  assert.match(r.out, /every L2TP\/IPsec client shares this key/)
  assert.match(r.yaml, /^\s+auth: \["certificate","psk"\]$/m)
  const other = init('f', '--protocols', 'l2tp', '--psk')
  assert.notEqual(readFileSync(join(other.dir, 'ipsec.psk'), 'utf8'), readFileSync(join(r.dir, 'ipsec.psk'), 'utf8'))
})

test('--psk-file reads the key (not printed), refuses a short one, and both need l2tp', () => {
  const good = join(tmp, 'good.psk'); writeFileSync(good, 'a-long-shared-secret-of-30-chars\n')
  const short = join(tmp, 'short.psk'); writeFileSync(short, 'secret\n')
  const r = init('g', '--protocols', 'l2tp', '--psk-file', good)
  assert.equal(r.code, 0, r.err)
  assert.equal(readFileSync(join(r.dir, 'ipsec.psk'), 'utf8'), 'a-long-shared-secret-of-30-chars\n')
  assert.doesNotMatch(r.out, /a-long-shared-secret/)
  const s = init('h', '--protocols', 'l2tp', '--psk-file', short)
  assert.notEqual(s.code, 0)
  assert.match(s.err, /has 6 characters: use at least 20 random ones/)
  assert.equal(s.yaml, '', 'nothing written on refusal')
  const noL2tp = init('i', '--psk')
  assert.notEqual(noL2tp.code, 0)
  assert.match(noL2tp.err, /--psk and --psk-file are for L2TP\/IPsec: add l2tp to --protocols/)
})

// Sealed reversible secrets (AES-256-GCM), the secret key file, scrypt hash strings and the
// lockout arithmetic on their own.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSecretKeyFile, open, readSecretKey, seal } from '../../src/aaa/secret-box.js'
import { hashPassword, verifyPassword } from '../../src/aaa/password-hash.js'
import { CLEAR_LOCKOUT, isLocked, recordFailure } from '../../src/aaa/lockout.js'
import { utf8, fromUtf8 } from '../../src/lib/bytes.js'
import { VpnError } from '../../src/lib/errors.js'

const isErr = (code: string) => (e: unknown): boolean => e instanceof VpnError && e.code === code

test('seal/open round trip; wrong key, wrong aad or a flipped bit do not open', () => {
  const key = new Uint8Array(32).fill(1)
  const box = seal(key, utf8('Secret-Pass-1'), utf8('alice'))
  assert.equal(box.length, 12 + 13 + 16)
  assert.equal(fromUtf8(open(key, box, utf8('alice'))!), 'Secret-Pass-1')
  assert.equal(open(new Uint8Array(32).fill(2), box, utf8('alice')), undefined)
  assert.equal(open(key, box, utf8('bob')), undefined)
  for (let i = 0; i < box.length; i++) { const b = box.slice(); b[i]! ^= 0x80; assert.equal(open(key, b, utf8('alice')), undefined, `bit flip at ${i}`) }
  assert.equal(open(key, box.subarray(0, 20), utf8('alice')), undefined)
  assert.notDeepEqual(seal(key, utf8('x'), utf8('a')), seal(key, utf8('x'), utf8('a'))) // fresh IV
  assert.throws(() => seal(new Uint8Array(31), utf8('x'), utf8('a')), isErr('ERR_BAD_SECRET_KEY'))
})

test('secret key file: created 0600, read back, never overwritten, wrong sizes refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-key-'))
  try {
    const p = join(dir, 'secret.key')
    assert.throws(() => readSecretKey(p), isErr('ERR_NO_SECRET_KEY'))
    const k = createSecretKeyFile(p)
    assert.equal(statSync(p).mode & 0o777, 0o600)
    assert.deepEqual(readSecretKey(p), k)
    assert.throws(() => createSecretKeyFile(p), isErr('ERR_SECRET_KEY_FILE'))
    writeFileSync(join(dir, 'short.key'), new Uint8Array(16))
    assert.throws(() => readSecretKey(join(dir, 'short.key')), isErr('ERR_BAD_SECRET_KEY'))
  } finally { rmSync(dir, { recursive: true, force: true }) }
})

test('scrypt hashes: salted, self-describing, malformed strings never verify', () => {
  const h = hashPassword('Pass-Word-123', 1024)
  assert.match(h, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]{44}$/)
  assert.notEqual(hashPassword('Pass-Word-123', 1024), h)
  assert.equal(verifyPassword('Pass-Word-123', h), true)
  assert.equal(verifyPassword('Pass-Word-124', h), false)
  // the same text in NFC and NFD is the same password
  assert.equal(verifyPassword('Caf\u00e9-Latte-12', hashPassword('Cafe\u0301-Latte-12', 1024)), true)
  for (const bad of ['', 'scrypt', h.replace('scrypt', 'bcrypt'), h.replace('$1024$', '$1000$'), h.replace('$1024$', '$4194304$'), h.slice(0, -4)]) assert.equal(verifyPassword('Pass-Word-123', bad), false, bad)
})

test('lockout arithmetic', () => {
  const o = { maxFailures: 3, windowSeconds: 10, lockSeconds: 5 }
  let s = recordFailure(CLEAR_LOCKOUT, 1000, o)
  assert.deepEqual(s, { failures: 1, windowStart: 1000, lockedUntil: null })
  s = recordFailure(s, 2000, o)
  assert.deepEqual(s, { failures: 2, windowStart: 1000, lockedUntil: null })
  assert.deepEqual(recordFailure(s, 11_000, o), { failures: 1, windowStart: 11_000, lockedUntil: null }) // window over
  s = recordFailure(s, 10_999, o)
  assert.deepEqual(s, { failures: 0, windowStart: null, lockedUntil: 15_999 })
  assert.equal(isLocked(s, 15_998), true)
  assert.equal(isLocked(s, 15_999), false)
  assert.deepEqual(recordFailure(s, 16_000, o), { failures: 1, windowStart: 16_000, lockedUntil: null })
})

// Password policy: each rule, and messages that name exactly what is missing.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkPasswordPolicy } from '../../src/aaa/password-policy.js'

test('a long mixed password passes', () => {
  assert.deepEqual(checkPasswordPolicy('Tr0ubadour-horse', 'alice'), { ok: true })
  assert.deepEqual(checkPasswordPolicy('correct horse Battery', 'alice'), { ok: true }) // lower, upper, symbol (space)
})

test('short and two-class: the message names both with the counts', () => {
  assert.deepEqual(checkPasswordPolicy('abcdefg1', 'alice'), {
    ok: false,
    message: 'password must be at least 12 characters (got 8) and mix 3 of: lower case, upper case, digits, symbols (got 2)',
  })
})

test('length only', () => {
  assert.deepEqual(checkPasswordPolicy('Ab1!Ab1!', 'bob'), { ok: false, message: 'password must be at least 12 characters (got 8)' })
})

test('classes only', () => {
  assert.deepEqual(checkPasswordPolicy('abcdefghijklmnop', 'bob'), { ok: false, message: 'password must mix 3 of: lower case, upper case, digits, symbols (got 1)' })
})

test('containing the user name, case-insensitively', () => {
  assert.deepEqual(checkPasswordPolicy('xx-ALICE-2024-yy', 'alice'), { ok: false, message: 'password must not contain the user name' })
})

test('common passwords are refused even when long and mixed', () => {
  assert.deepEqual(checkPasswordPolicy('Password123!', 'bob'), { ok: false, message: 'password must not be a commonly used password' })
  assert.deepEqual(checkPasswordPolicy('Welcome2024!', 'bob'), { ok: false, message: 'password must not be a commonly used password' })
})

test('all failures are listed together', () => {
  const r = checkPasswordPolicy('admin', 'admin')
  assert.deepEqual(r, {
    ok: false,
    message: 'password must be at least 12 characters (got 5), mix 3 of: lower case, upper case, digits, symbols (got 1), not contain the user name and not be a commonly used password',
  })
})

test('policy options change the thresholds; length counts code points', () => {
  assert.deepEqual(checkPasswordPolicy('abcdefgh', 'bob', { minLength: 8, minClasses: 1 }), { ok: true })
  assert.deepEqual(checkPasswordPolicy('Ab1!Ab1!Ab1!', 'bob', { minClasses: 4 }), { ok: true })
  assert.deepEqual(checkPasswordPolicy('Ab1Ab1Ab1Ab1', 'bob', { minClasses: 4 }), { ok: false, message: 'password must mix 4 of: lower case, upper case, digits, symbols (got 3)' })
  // 11 emoji are 22 UTF-16 units but 11 characters
  const r = checkPasswordPolicy('😀'.repeat(11), 'bob', { minClasses: 1 })
  assert.deepEqual(r, { ok: false, message: 'password must be at least 12 characters (got 11)' })
})

test('the message never contains the password', () => {
  const pw = 'zq7'
  const r = checkPasswordPolicy(pw, 'bob')
  assert.equal(r.ok, false)
  if (!r.ok) assert.ok(!r.message.includes(pw))
})

test('user names shorter than 3 characters are not searched for', () => {
  assert.deepEqual(checkPasswordPolicy('Alpha-Bravo-77', 'al'), { ok: true })
  assert.deepEqual(checkPasswordPolicy('Alpha-Bravo-77', 'alp'), { ok: false, message: 'password must not contain the user name' })
})

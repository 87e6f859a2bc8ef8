// PreauthLimit: per-source cap on connections that have not authenticated yet.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PreauthLimit } from '../../src/gateway/preauth-limit.js'

test('a source gets at most max slots; releasing one lets the next in; sources are independent', () => {
  const l = new PreauthLimit(3)
  for (let i = 0; i < 3; i++) assert.equal(l.acquire('198.18.0.9'), true)
  assert.equal(l.acquire('198.18.0.9'), false, 'fourth refused')
  assert.equal(l.acquire('198.18.0.10'), true, 'another source is not affected')
  l.release('198.18.0.9')
  assert.equal(l.acquire('198.18.0.9'), true)
  for (let i = 0; i < 3; i++) l.release('198.18.0.9')
  assert.equal(l.held('198.18.0.9'), 0)
  l.release('198.18.0.9') // an extra release never goes negative
  assert.equal(l.held('198.18.0.9'), 0)
})

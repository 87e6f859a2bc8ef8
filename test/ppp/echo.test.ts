// LCP Echo keepalive timing (RFC 1661 §5.8 used as a keepalive): interval, failures, activity.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EchoKeepalive } from '../../src/ppp/lcp/echo.js'

test('silent peer: echoes at I, 2I, 3I, dead at 4I after the last frame', () => {
  const k = new EchoKeepalive(1000, 3)
  k.start(0)
  assert.equal(k.nextTimeout(), 1000)
  assert.equal(k.handleTimeout(999), undefined)
  assert.equal(k.handleTimeout(1000), 'send')
  assert.equal(k.handleTimeout(2000), 'send')
  assert.equal(k.handleTimeout(3000), 'send')
  assert.equal(k.handleTimeout(3999), undefined)
  assert.equal(k.handleTimeout(4000), 'dead')
  assert.equal(k.nextTimeout(), undefined)
})

test('traffic postpones echoes; an answer resets the failure count', () => {
  const k = new EchoKeepalive(1000, 2)
  k.start(0)
  k.heard(600)
  assert.equal(k.handleTimeout(1000), undefined)
  assert.equal(k.nextTimeout(), 1600)
  assert.equal(k.handleTimeout(1600), 'send')
  assert.equal(k.handleTimeout(2600), 'send')
  k.heard(2700)
  assert.equal(k.pending, 0)
  assert.equal(k.handleTimeout(3600), undefined)
  assert.equal(k.handleTimeout(3700), 'send')
})

test('interval 0 disables the keepalive', () => {
  const k = new EchoKeepalive(0, 3)
  k.start(0)
  assert.equal(k.nextTimeout(), undefined)
  assert.equal(k.handleTimeout(1e9), undefined)
})

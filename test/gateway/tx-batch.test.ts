// TxBatch: sends inside a batch are flushed once per connection at its end; outside, not deferred.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TxBatch } from '../../src/gateway/tx-batch.js'

test('each connection touched in a batch is flushed exactly once, after the batch', () => {
  const b = new TxBatch()
  const log: string[] = []
  const a = { flush: () => log.push('a') }
  const c = { flush: () => log.push('c') }
  b.run(() => {
    assert.equal(b.defer(a), true)
    assert.equal(b.defer(c), true)
    assert.equal(b.defer(a), true)
    log.push('end of batch')
  })
  assert.deepEqual(log, ['end of batch', 'a', 'c'])
  assert.equal(b.defer(a), false, 'outside a batch the caller sends at once')
})

test('a throw inside the batch still flushes what was queued', () => {
  const b = new TxBatch()
  let flushed = 0
  assert.throws(() => b.run(() => { b.defer({ flush: () => flushed++ }); throw new Error('x') }))
  assert.equal(flushed, 1)
  assert.equal(b.defer({ flush: () => {} }), false)
})

// CallIdAllocator (src/transport/gre-driver.ts): gateway-wide PPTP Call IDs that never collide in the
// GRE demultiplexer, even for two control connections from one address (RFC 2637 §2.7 Call ID).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CallIdAllocator } from '../../src/transport/gre-driver.js'
import { GreDemux } from '../../src/pptp/gre/demux.js'
import { GreCall } from '../../src/pptp/gre/call.js'

test('Call IDs are unique gateway-wide, never 0, reused only after release, exhausted -> undefined', () => {
  const a = new CallIdAllocator(undefined, 0xfffe)
  assert.equal(a.allocate(), 0xfffe)
  assert.equal(a.allocate(), 0xffff)
  assert.equal(a.allocate(), 1) // wraps past 0
  a.release(0xffff)
  const seen = new Set<number>([0xfffe, 1])
  for (let i = 0; i < 0xffff - 2; i++) {
    const id = a.allocate()
    assert.ok(id !== undefined && id >= 1 && id <= 0xffff && !seen.has(id), `id ${id}`)
    seen.add(id)
  }
  assert.equal(a.allocate(), undefined)
  a.release(42)
  assert.equal(a.allocate(), 42)
})

test('an ID the demux still holds for some peer is skipped', () => {
  const demux = new GreDemux()
  demux.add('198.18.0.2', new GreCall({ localCallId: 1, peerCallId: 7, peerReceiveWindow: 64 }))
  demux.add('198.18.0.3', new GreCall({ localCallId: 3, peerCallId: 7, peerReceiveWindow: 64 }))
  const a = new CallIdAllocator(demux)
  assert.equal(a.allocate(), 2)
  assert.equal(a.allocate(), 4)
  demux.remove('198.18.0.2', 1)
  assert.equal(a.allocate(), 5)
  for (let i = 0; i < 0xffff; i++) if (a.allocate() === undefined) break
  a.release(2)
  assert.equal(a.allocate(), 2)
})

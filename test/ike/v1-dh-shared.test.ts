// The MODP groups share one DiffieHellman object per process (no prime test per exchange): exchanges that are
// created and completed interleaved must still each use their own private value (RFC 2409 §5, RFC 3526).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DhExchange } from '../../src/ike/v1/crypto/dh.js'
import { systemRng } from '../../src/crypto/rng.js'

for (const group of [2, 14]) {
  test(`MODP group ${group}: four interleaved exchanges on the shared group object agree pairwise and differ from each other`, () => {
    const a = new DhExchange(group, systemRng)
    const b = new DhExchange(group, systemRng)
    const c = new DhExchange(group, systemRng)
    const d = new DhExchange(group, systemRng)
    // Completed in an order unlike creation: each computeShared must use its own private value.
    const cd = c.computeShared(d.publicValue)!
    const ab = a.computeShared(b.publicValue)!
    const dc = d.computeShared(c.publicValue)!
    const ba = b.computeShared(a.publicValue)!
    assert.deepEqual(ab, ba)
    assert.deepEqual(cd, dc)
    assert.notDeepEqual(ab, cd)
    assert.equal(ab.length, group === 2 ? 128 : 256)
    // A fixed private value gives the same public value whatever ran in between.
    const x = new Uint8Array(32).fill(7)
    const p1 = new DhExchange(group, systemRng, x).publicValue
    new DhExchange(group, systemRng)
    assert.deepEqual(new DhExchange(group, systemRng, x).publicValue, p1)
  })
}

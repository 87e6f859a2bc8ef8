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

// RFC 7748 §6.1 test vector (Alice and Bob): the KE data is the u-coordinate, the shared secret K.
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'))
test('Curve25519 (group 31): RFC 7748 §6.1 public keys and shared secret; an all-zero result (small-order point) is refused', () => {
  const alice = new DhExchange(31, systemRng, hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'))
  const bob = new DhExchange(31, systemRng, hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'))
  assert.equal(Buffer.from(alice.publicValue).toString('hex'), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a')
  assert.equal(Buffer.from(bob.publicValue).toString('hex'), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f')
  const k = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742'
  assert.equal(Buffer.from(alice.computeShared(bob.publicValue)!).toString('hex'), k)
  assert.equal(Buffer.from(bob.computeShared(alice.publicValue)!).toString('hex'), k)
  // u = 0 and u = 1 are small-order points: X25519 gives all zeros, which must not become g^xy.
  assert.equal(alice.computeShared(new Uint8Array(32)), undefined)
  assert.equal(alice.computeShared(Uint8Array.of(1, ...new Uint8Array(31))), undefined)
  assert.equal(alice.computeShared(new Uint8Array(31)), undefined, 'wrong length')
})

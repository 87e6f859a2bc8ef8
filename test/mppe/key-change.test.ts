// The allocation-free key change (RFC 3078 §7.3): SessionKeyChanger and KeyChain.step() give the same
// keys as nextSessionKey (itself checked against RFC 3079 §3.5 in test/auth-crypto), in place.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { type MppeBits, SessionKeyChanger, initialSessionKey, nextSessionKey } from '../../src/auth/mppe-keys.js'
import { KeyChain } from '../../src/ppp/mppe/key-chain.js'
import { fromHex } from '../../src/lib/bytes.js'

const START = fromHex('8B7CDC149B993A1BA118CB153F56DCCB') // RFC 3079 §3.5.3 send start key

test('SessionKeyChanger.next equals nextSessionKey for every strength, also in place', () => {
  fc.assert(fc.property(fc.constantFrom<MppeBits>(40, 56, 128), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (bits, s, c) => {
    const len = bits === 128 ? 16 : 8
    const start = s.subarray(0, len)
    const cur = c.slice(0, len)
    const expected = nextSessionKey(start, cur, bits)
    const ch = new SessionKeyChanger(start, bits)
    const out = new Uint8Array(len)
    ch.next(cur, out)
    assert.deepEqual(out, expected)
    ch.next(cur, cur)
    assert.deepEqual(cur, expected, 'in place')
  }))
  assert.throws(() => new SessionKeyChanger(new Uint8Array(8), 128), RangeError)
})

test('KeyChain: step() rewrites one buffer along the nextSessionKey sequence; rollback returns to mark()', () => {
  for (const bits of [40, 56, 128] as const) {
    const start = bits === 128 ? START : START.subarray(0, 8)
    const chain = new KeyChain({ bits, stateless: true, startKey: start })
    let k = initialSessionKey(start, bits)
    assert.deepEqual(chain.key, k)
    const buf = chain.key
    const seen: string[] = []
    for (let i = 0; i < 300; i++) {
      k = nextSessionKey(start, k, bits)
      assert.equal(chain.step(), buf, 'the same buffer every time')
      assert.deepEqual(chain.key, k, `${bits}-bit change ${i + 1}`)
      seen.push(Buffer.from(k).toString('hex'))
    }
    assert.equal(new Set(seen).size, seen.length)
    chain.mark()
    const marked = chain.key.slice()
    chain.step(); chain.step()
    assert.equal(chain.changes, 302)
    chain.rollback()
    assert.deepEqual(chain.key, marked)
    assert.equal(chain.changes, 300)
    chain.wipe()
    assert.ok(chain.key.every((b) => b === 0))
  }
})

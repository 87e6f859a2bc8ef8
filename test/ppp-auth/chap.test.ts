// CHAP with MD5 (RFC 1994 §4): packet golden bytes and authenticator <-> peer pair tests.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { utf8 } from '../../src/lib/bytes.js'
import { decodeChap, encodeChap } from '../../src/ppp/auth/chap-codec.js'
import { chapMd5AuthenticatorVariant } from '../../src/ppp/auth/chap-md5.js'
import { ChapAuthenticator, createAuthenticator, createAuthPeer } from '../../src/ppp/auth/index.js'
import { fixedRng } from '../helpers/clock.js'
import { outcome, pump, scriptedRng, testVerifier } from './helpers.js'

const b = (...parts: (number | string | Uint8Array)[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => typeof p === 'number' ? [p] : typeof p === 'string' ? [...utf8(p)] : [...p]))
const users = testVerifier({ alice: { password: 'secret' } })
const challenge = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i)
// Independent builder for RFC 1994 §2: MD5(Identifier || secret || Challenge), via node:crypto.
const md5 = (id: number, secret: string, ch: Uint8Array): Uint8Array => new Uint8Array(createHash('md5').update(Uint8Array.of(id)).update(secret).update(ch).digest())

test('Challenge/Response/Success/Failure golden bytes (RFC 1994 §4.1, §4.2)', () => {
  const ch = b(0x01, 0x01, 0x00, 0x17, 0x10, challenge, 'gw')
  assert.deepEqual(encodeChap({ code: 'Challenge', identifier: 1, value: challenge, name: utf8('gw') }), ch)
  const d = decodeChap(ch)
  assert.equal(d.code, 'Challenge')
  if (d.code === 'Challenge') { assert.deepEqual(d.value, challenge); assert.deepEqual(d.name, utf8('gw')) }
  assert.deepEqual(encodeChap({ code: 'Success', identifier: 9, message: utf8('Welcome') }), b(0x03, 0x09, 0x00, 0x0b, 'Welcome'))
  assert.deepEqual(encodeChap({ code: 'Failure', identifier: 9, message: new Uint8Array(0) }), b(0x04, 0x09, 0x00, 0x04))
  for (const bad of [b(0x01, 0x01, 0x00, 0x05, 0x00), b(0x02, 0x01, 0x00, 0x08, 0x10, 1, 2, 3), b(0x05, 0x01, 0x00, 0x04), b(0x03, 0x01, 0x00, 0x09, 'ab')]) {
    assert.throws(() => decodeChap(bad), { name: 'DecodeError' })
  }
})

test('pair: correct password; the wire matches hand-built RFC 1994 packets', () => {
  const auth = createAuthenticator('chap-md5', { rng: scriptedRng(Uint8Array.of(0x01), challenge), name: 'gw' })
  const r = pump(auth, createAuthPeer('chap-md5', { rng: fixedRng(2), user: 'alice', password: 'secret' }), { verdict: users })
  assert.deepEqual(outcome(r.auth), { type: 'success', user: 'alice', method: 'chap-md5' })
  assert.deepEqual(outcome(r.peer), { type: 'success', user: 'alice', method: 'chap-md5' })
  assert.deepEqual(r.wire.map((w) => [...w.bytes]), [
    [...b(0x01, 0x01, 0x00, 0x17, 0x10, challenge, 'gw')],
    [...b(0x02, 0x01, 0x00, 0x1a, 0x10, md5(1, 'secret', challenge), 'alice')],
    [...b(0x03, 0x01, 0x00, 0x0b, 'Welcome')],
  ])
  assert.deepEqual(r.proofs, [{ method: 'chap-md5', user: 'alice', id: 1, challenge, response: md5(1, 'secret', challenge) }])
})

test('pair: wrong password -> Failure, both sides fail', () => {
  const r = pump(createAuthenticator('chap-md5', { rng: fixedRng(1), name: 'gw' }), createAuthPeer('chap-md5', { rng: fixedRng(2), user: 'alice', password: 'wrong' }), { verdict: users })
  const a = outcome(r.auth), p = outcome(r.peer)
  assert.equal(a.type === 'failure' && a.reason, 'bad-credentials')
  assert.equal(p.type === 'failure' && p.reason, 'bad-credentials')
  assert.equal(r.wire.at(-1)!.bytes[0], 0x04)
})

test('lost Challenge and lost Response: the Challenge is repeated unchanged and the answer reused', () => {
  for (const lose of [{ loseToPeer: (n: number) => n === 0 }, { loseToAuth: (n: number) => n === 0 }]) {
    const auth = new ChapAuthenticator(chapMd5AuthenticatorVariant, { rng: fixedRng(1), name: 'gw', restartMs: 1000 })
    const r = pump(auth, createAuthPeer('chap-md5', { rng: fixedRng(2), user: 'alice', password: 'secret', restartMs: 1000 }), { verdict: users, ...lose })
    assert.equal(outcome(r.auth).type, 'success')
    assert.equal(outcome(r.peer).type, 'success')
    assert.equal(r.proofs.length, 1)
    const challenges = r.wire.filter((w) => w.dir === 'a->p' && w.bytes[0] === 0x01)
    assert.ok(challenges.length >= 2)
    assert.deepEqual(challenges[0]!.bytes, challenges[1]!.bytes)
  }
})

test('lost Success: the repeated Response gets the same Success again, without a second verification', () => {
  const auth = createAuthenticator('chap-md5', { rng: fixedRng(1), name: 'gw' })
  const r = pump(auth, createAuthPeer('chap-md5', { rng: fixedRng(2), user: 'alice', password: 'secret' }), { verdict: users, loseToPeer: (n) => n === 1 })
  assert.equal(outcome(r.peer).type, 'success')
  assert.equal(r.proofs.length, 1)
  const successes = r.wire.filter((w) => w.bytes[0] === 0x03)
  assert.equal(successes.length, 2)
  assert.deepEqual(successes[0]!.bytes, successes[1]!.bytes)
})

test('max retries: no Response -> authenticator timeout after 1 + maxRetries Challenges; silent authenticator -> peer timeout', () => {
  const r = pump(createAuthenticator('chap-md5', { rng: fixedRng(1), name: 'gw', restartMs: 200, maxRetries: 2 }), createAuthPeer('chap-md5', { rng: fixedRng(2), user: 'alice', password: 'secret', restartMs: 200, maxRetries: 2 }), { verdict: users, loseToPeer: () => true })
  const a = outcome(r.auth), p = outcome(r.peer)
  assert.equal(a.type === 'failure' && a.reason, 'timeout')
  assert.equal(p.type === 'failure' && p.reason, 'timeout')
  assert.equal(r.wire.filter((w) => w.dir === 'a->p').length, 3)
})

test('a Response with a stale Identifier or a 15-octet value is dropped and counted', () => {
  const auth = createAuthenticator('chap-md5', { rng: scriptedRng(Uint8Array.of(0x05), challenge), name: 'gw' }) as ChapAuthenticator
  auth.start(0)
  auth.pollPacket()
  auth.handlePacket(0, b(0x02, 0x04, 0x00, 0x1a, 0x10, md5(4, 'secret', challenge), 'alice'))
  auth.handlePacket(0, b(0x02, 0x05, 0x00, 0x19, 0x0f, md5(5, 'secret', challenge).subarray(0, 15), 'alice'))
  assert.equal(auth.pollEvent(), undefined)
  assert.equal(auth.counters()['drop:identifier-mismatch'], 1)
  assert.equal(auth.counters()['drop:bad-response-length'], 1)
})

test('a re-challenge after success (RFC 1994 §2) is answered, without new events or timers', () => {
  const peer = createAuthPeer('chap-md5', { rng: fixedRng(2), user: 'alice', password: 'secret' })
  peer.start(0)
  peer.handlePacket(0, b(0x01, 0x01, 0x00, 0x17, 0x10, challenge, 'gw'))
  assert.ok(peer.pollPacket())
  peer.handlePacket(0, b(0x03, 0x01, 0x00, 0x04))
  assert.equal(peer.pollEvent()?.type, 'success')
  peer.handlePacket(5, b(0x01, 0x02, 0x00, 0x17, 0x10, challenge, 'gw'))
  assert.deepEqual(peer.pollPacket(), b(0x02, 0x02, 0x00, 0x1a, 0x10, md5(2, 'secret', challenge), 'alice'))
  peer.handlePacket(5, b(0x04, 0x02, 0x00, 0x04))
  assert.equal(peer.pollEvent(), undefined)
  assert.equal(peer.nextTimeout(), undefined)
})

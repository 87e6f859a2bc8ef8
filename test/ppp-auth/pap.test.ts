// PAP (RFC 1334 §2): packet golden bytes and authenticator <-> peer pair tests with loss.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { utf8 } from '../../src/lib/bytes.js'
import { decodePap, encodePap } from '../../src/ppp/auth/pap-codec.js'
import { PapAuthenticator, PapPeer, createAuthenticator, createAuthPeer } from '../../src/ppp/auth/index.js'
import { fixedRng } from '../helpers/clock.js'
import { outcome, pump, testVerifier } from './helpers.js'

const b = (...parts: (number | string)[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => typeof p === 'number' ? [p] : [...utf8(p)]))
const users = testVerifier({ alice: { password: 'secret' } })

test('Authenticate-Request golden bytes (RFC 1334 §2.2.1)', () => {
  // Code 1, Identifier 0x42, Length 17, Peer-ID-Length 5 "alice", Passwd-Length 6 "secret"
  const golden = b(0x01, 0x42, 0x00, 0x11, 0x05, 'alice', 0x06, 'secret')
  assert.deepEqual(encodePap({ code: 'Authenticate-Request', identifier: 0x42, peerId: utf8('alice'), password: utf8('secret') }), golden)
  const m = decodePap(golden)
  assert.equal(m.code, 'Authenticate-Request')
  if (m.code === 'Authenticate-Request') { assert.deepEqual(m.peerId, utf8('alice')); assert.deepEqual(m.password, utf8('secret')) }
})

test('Authenticate-Ack/Nak golden bytes (RFC 1334 §2.2.2); padding beyond Length is ignored', () => {
  assert.deepEqual(encodePap({ code: 'Authenticate-Ack', identifier: 7, message: utf8('Welcome') }), b(0x02, 0x07, 0x00, 0x0c, 0x07, 'Welcome'))
  assert.deepEqual(encodePap({ code: 'Authenticate-Nak', identifier: 7, message: utf8('no') }), b(0x03, 0x07, 0x00, 0x07, 0x02, 'no'))
  const padded = b(0x02, 0x07, 0x00, 0x07, 0x02, 'ok', 0xff, 0xff)
  const m = decodePap(padded)
  assert.equal(m.code, 'Authenticate-Ack')
  if (m.code === 'Authenticate-Ack') assert.deepEqual(m.message, utf8('ok'))
})

test('truncated and over-long PAP packets throw DecodeError', () => {
  for (const bad of [b(0x01), b(0x01, 0x01, 0x00, 0x03), b(0x01, 0x01, 0x00, 0x09, 0x05, 'ab'), b(0x01, 0x01, 0x00, 0x06, 0x01, 'a'), b(0x09, 0x01, 0x00, 0x04)]) {
    assert.throws(() => decodePap(bad), { name: 'DecodeError' })
  }
})

test('pair: correct password -> both sides succeed; the wire carries the RFC layout', () => {
  const r = pump(createAuthenticator('pap', { rng: fixedRng(1), name: 'gw' }), createAuthPeer('pap', { rng: fixedRng(2), user: 'alice', password: 'secret' }), { verdict: users })
  assert.deepEqual(outcome(r.auth), { type: 'success', user: 'alice', method: 'pap' })
  assert.deepEqual(outcome(r.peer), { type: 'success', user: 'alice', method: 'pap' })
  assert.deepEqual(r.proofs, [{ method: 'pap', user: 'alice', password: 'secret' }])
  const id = fixedRng(2).bytes(1)[0]!
  assert.deepEqual(r.wire.map((w) => w.dir), ['p->a', 'a->p'])
  assert.deepEqual(r.wire[0]!.bytes, b(0x01, id, 0x00, 0x11, 0x05, 'alice', 0x06, 'secret'))
  assert.deepEqual(r.wire[1]!.bytes, b(0x02, id, 0x00, 0x0c, 0x07, 'Welcome'))
})

test('pair: wrong password -> Nak, both sides fail with bad-credentials', () => {
  const r = pump(new PapAuthenticator({ rng: fixedRng(1), name: 'gw' }), new PapPeer({ rng: fixedRng(2), user: 'alice', password: 'nope' }), { verdict: users })
  const a = outcome(r.auth), p = outcome(r.peer)
  assert.equal(a.type === 'failure' && a.reason, 'bad-credentials')
  assert.equal(p.type === 'failure' && p.reason, 'bad-credentials')
  assert.match(p.type === 'failure' ? p.message : '', /Authenticate-Nak: Authentication failed/)
})

test('lost Authenticate-Request: the peer repeats it with a new Identifier (RFC 1334 §2.2.1)', () => {
  const r = pump(new PapAuthenticator({ rng: fixedRng(1), name: 'gw', restartMs: 1000 }), new PapPeer({ rng: fixedRng(2), user: 'alice', password: 'secret', restartMs: 1000 }), { verdict: users, loseToAuth: (n) => n === 0 })
  assert.equal(outcome(r.auth).type, 'success')
  assert.equal(outcome(r.peer).type, 'success')
  const reqs = r.wire.filter((w) => w.dir === 'p->a')
  assert.equal(reqs.length, 2)
  assert.equal(reqs[1]!.bytes[1], (reqs[0]!.bytes[1]! + 1) & 0xff)
  assert.equal(r.clock.now - 1_000_000, 1000)
})

test('lost Ack: the repeated request is re-acknowledged without a second verification', () => {
  const auth = new PapAuthenticator({ rng: fixedRng(1), name: 'gw' })
  const r = pump(auth, new PapPeer({ rng: fixedRng(2), user: 'alice', password: 'secret' }), { verdict: users, loseToPeer: (n) => n === 0 })
  assert.equal(outcome(r.peer).type, 'success')
  assert.equal(r.proofs.length, 1)
  assert.equal(auth.counters()['drop:repeated-request'], 1)
})

test('max retries: an unanswered peer fails with timeout after 1 + maxRetries requests', () => {
  const r = pump(new PapAuthenticator({ rng: fixedRng(1), name: 'gw', restartMs: 500, maxRetries: 3 }), new PapPeer({ rng: fixedRng(2), user: 'alice', password: 'secret', restartMs: 500, maxRetries: 3 }), { verdict: users, loseToAuth: () => true })
  const p = outcome(r.peer), a = outcome(r.auth)
  assert.equal(p.type === 'failure' && p.reason, 'timeout')
  assert.equal(a.type === 'failure' && a.reason, 'timeout') // the authenticator never heard a request either
  assert.equal(r.wire.filter((w) => w.dir === 'p->a').length, 4)
})

test('malformed, unexpected and stray packets are counted and ignored, never thrown', () => {
  const auth = new PapAuthenticator({ rng: fixedRng(1), name: 'gw' })
  auth.start(0)
  auth.handlePacket(0, b(0x01, 0x01, 0x00, 0x09, 0x05, 'ab')) // truncated Peer-ID
  auth.handlePacket(0, b(0x02, 0x01, 0x00, 0x05, 0x00)) // an Ack sent to the authenticator
  assert.equal(auth.pollEvent(), undefined)
  assert.equal(auth.pollPacket(), undefined)
  assert.equal(auth.counters()['drop:malformed'], 1)
  assert.equal(auth.counters()['drop:unexpected-code'], 1)
  const peer = new PapPeer({ rng: fixedRng(2), user: 'alice', password: 'secret' })
  peer.start(0)
  peer.pollPacket()
  peer.handlePacket(0, b(0x02, 0x99, 0x00, 0x05, 0x00)) // Ack for an Identifier we never used
  assert.equal(peer.pollEvent(), undefined)
  assert.equal(peer.counters()['drop:identifier-mismatch'], 1)
})

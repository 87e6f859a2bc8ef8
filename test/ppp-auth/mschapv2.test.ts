// MS-CHAPv2 over PPP (RFC 2759): the RFC 2759 §9.2 exchange byte for byte, mutual authentication,
// error codes (§6), loss and retransmission, and key agreement (RFC 3079 §3.4 MasterKey).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fromHex, toHex, utf8 } from '../../src/lib/bytes.js'
import { ChapAuthenticator, createAuthenticator, createAuthPeer } from '../../src/ppp/auth/index.js'
import type { AuthVerdict } from '../../src/auth/types.js'
import { fixedRng } from '../helpers/clock.js'
import { outcome, pump, rfc2759 as v, scriptedRng, testVerifier } from './helpers.js'

const b = (...parts: (number | string | Uint8Array)[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => typeof p === 'number' ? [p] : typeof p === 'string' ? [...utf8(p)] : [...p]))
const users = testVerifier({ [v.userName]: { password: v.password }, locked: { password: 'x', locked: true } })
const ac = fromHex(v.authenticatorChallenge), pc = fromHex(v.peerChallenge), nt = fromHex(v.ntResponse)

function rfcPair(extra: Parameters<typeof pump>[2] = {}) {
  const auth = createAuthenticator('mschapv2', { rng: scriptedRng(Uint8Array.of(0x2a), ac), name: 'gw' })
  const peer = createAuthPeer('mschapv2', { rng: scriptedRng(pc), user: v.userName, password: v.password })
  return pump(auth, peer, { verdict: users, ...extra })
}

test(`the RFC 2759 §9.2 exchange on the wire (${v.source})`, () => {
  const r = rfcPair()
  const success = `${v.authenticatorResponse} M=Access granted`
  assert.deepEqual(r.wire.map((w) => toHex(w.bytes)), [
    // §3 Challenge: Value-Size 16, the authenticator challenge, Name "gw"
    toHex(b(0x01, 0x2a, 0x00, 0x17, 0x10, ac, 'gw')),
    // §4 Response: Value-Size 49 = Peer-Challenge, 8 zero octets, NT-Response, Flags 0; Name "User"
    toHex(b(0x02, 0x2a, 0x00, 0x3a, 0x31, pc, new Uint8Array(8), nt, 0x00, 'User')),
    // §5 Success: "S=<auth_string> M=<message>"
    toHex(b(0x03, 0x2a, 0x00, 4 + success.length, success)),
  ])
  const a = outcome(r.auth), p = outcome(r.peer)
  assert.equal(a.type, 'success'); assert.equal(p.type, 'success')
  if (a.type === 'success' && p.type === 'success') {
    assert.equal(toHex(a.keys!.masterKey).toUpperCase(), v.masterKey)
    assert.deepEqual(p.keys, { method: 'mschapv2', masterKey: fromHex(v.masterKey) })
    assert.equal(a.keys!.method, 'mschapv2')
  }
  assert.deepEqual(r.proofs, [{ method: 'mschapv2', user: 'User', authenticatorChallenge: ac, peerChallenge: pc, ntResponse: nt }])
})

test('pair with random challenges: equal MasterKey on both sides', () => {
  const r = pump(createAuthenticator('mschapv2', { rng: fixedRng(11), name: 'gw' }), createAuthPeer('mschapv2', { rng: fixedRng(12), user: 'User', password: 'clientPass' }), { verdict: users })
  const a = outcome(r.auth), p = outcome(r.peer)
  assert.ok(a.type === 'success' && p.type === 'success')
  assert.deepEqual(a.keys!.masterKey, p.keys!.masterKey)
  assert.equal(a.keys!.masterKey.length, 16)
})

test('wrong password -> Failure "E=691 R=0 C=<32 hex> V=3 M=..." (RFC 2759 §6), both sides fail', () => {
  const r = pump(createAuthenticator('mschapv2', { rng: fixedRng(11), name: 'gw' }), createAuthPeer('mschapv2', { rng: fixedRng(12), user: 'User', password: 'wrong' }), { verdict: users })
  const failure = new TextDecoder().decode(r.wire.at(-1)!.bytes.subarray(4))
  assert.equal(r.wire.at(-1)!.bytes[0], 0x04)
  assert.match(failure, /^E=691 R=0 C=[0-9A-F]{32} V=3 M=.+$/)
  const a = outcome(r.auth), p = outcome(r.peer)
  assert.equal(a.type === 'failure' && a.reason, 'bad-credentials')
  assert.equal(p.type === 'failure' && p.reason, 'bad-credentials')
  assert.match(p.type === 'failure' ? p.message : '', /E=691/)
})

test('locked account -> E=647 and the peer reports locked', () => {
  const r = pump(createAuthenticator('mschapv2', { rng: fixedRng(11), name: 'gw' }), createAuthPeer('mschapv2', { rng: fixedRng(12), user: 'locked', password: 'x' }), { verdict: users })
  assert.match(new TextDecoder().decode(r.wire.at(-1)!.bytes.subarray(4)), /^E=647 /)
  const p = outcome(r.peer)
  assert.equal(p.type === 'failure' && p.reason, 'locked')
  assert.match(p.type === 'failure' ? p.message : '', /E=647/)
})

test('a tampered authenticator response makes the peer fail with mutual-auth-failed', () => {
  const tamper = (bytes: Uint8Array): Uint8Array => {
    if (bytes[0] !== 0x03) return bytes
    const t = bytes.slice()
    t[6] = t[6] === 0x41 ? 0x42 : 0x41 // first hex digit after "S="
    return t
  }
  const r = rfcPair({ tamperToPeer: tamper })
  const p = outcome(r.peer)
  assert.equal(p.type === 'failure' && p.reason, 'mutual-auth-failed')
  // And a Success without any S= at all is refused the same way.
  const r2 = rfcPair({ tamperToPeer: (x) => x[0] === 0x03 ? b(0x03, 0x2a, 0x00, 0x06, 'OK') : x })
  const p2 = outcome(r2.peer)
  assert.equal(p2.type === 'failure' && p2.reason, 'mutual-auth-failed')
})

test('lost Challenge, lost Response, lost Success: retransmission recovers with one verification and one NT-Response', () => {
  for (const loss of [{ loseToPeer: (n: number) => n === 0 }, { loseToAuth: (n: number) => n === 0 }, { loseToPeer: (n: number) => n === 1 }]) {
    const r = rfcPair(loss)
    assert.equal(outcome(r.auth).type, 'success')
    const p = outcome(r.peer)
    assert.ok(p.type === 'success' && toHex(p.keys!.masterKey).toUpperCase() === v.masterKey)
    assert.equal(r.proofs.length, 1)
    const responses = new Set(r.wire.filter((w) => w.dir === 'p->a').map((w) => toHex(w.bytes)))
    assert.equal(responses.size, 1, 'the peer repeats the same Response, never a new peer challenge')
  }
})

test('max retries: authenticator timeout after 1 + maxRetries Challenges', () => {
  const r = pump(createAuthenticator('mschapv2', { rng: fixedRng(1), name: 'gw', restartMs: 100, maxRetries: 4 }), createAuthPeer('mschapv2', { rng: fixedRng(2), user: 'User', password: 'clientPass', restartMs: 100, maxRetries: 4 }), { verdict: users, loseToAuth: () => true })
  const a = outcome(r.auth), p = outcome(r.peer)
  assert.equal(a.type === 'failure' && a.reason, 'timeout')
  assert.equal(p.type === 'failure' && p.reason, 'timeout')
  assert.equal(r.wire.filter((w) => w.dir === 'a->p').length, 5)
})

test('an accepting verdict without an authenticator response becomes a Failure (backend-error)', () => {
  const verdict = (): AuthVerdict => ({ ok: true, user: 'User' })
  const r = pump(createAuthenticator('mschapv2', { rng: fixedRng(1), name: 'gw' }), createAuthPeer('mschapv2', { rng: fixedRng(2), user: 'User', password: 'clientPass' }), { verdict })
  const a = outcome(r.auth), p = outcome(r.peer)
  assert.equal(a.type === 'failure' && a.reason, 'backend-error')
  assert.equal(p.type, 'failure')
})

test('malformed MS-CHAPv2 values are dropped and counted', () => {
  const auth = createAuthenticator('mschapv2', { rng: scriptedRng(Uint8Array.of(0x07), ac), name: 'gw' }) as ChapAuthenticator
  auth.start(0)
  auth.pollPacket()
  auth.handlePacket(0, b(0x02, 0x07, 0x00, 0x35, 0x30, new Uint8Array(48), 'User')) // 48-octet value
  assert.equal(auth.pollEvent(), undefined)
  assert.equal(auth.counters()['drop:bad-response-length'], 1)
  const peer = createAuthPeer('mschapv2', { rng: fixedRng(2), user: 'User', password: 'x' })
  peer.start(0)
  peer.handlePacket(0, b(0x01, 0x07, 0x00, 0x0d, 0x08, new Uint8Array(8))) // 8-octet challenge
  assert.equal(peer.pollPacket(), undefined)
})

// EAP over PPP (RFC 3748; protocol c227): the whole EAP-MS-CHAPv2 conversation byte for byte,
// EAP-MD5, Nak-driven method switch (§5.3.1), loss, retransmission, timeouts, mutual auth.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fromHex, toHex, utf8 } from '../../src/lib/bytes.js'
import { EapAuthenticatorCore, EapPeerCore, createAuthenticator, createAuthPeer } from '../../src/ppp/auth/index.js'
import type { EapMethodName } from '../../src/ppp/auth/types.js'
import { fixedRng } from '../helpers/clock.js'
import { outcome, pump, rfc2759 as v, scriptedRng, testVerifier } from './helpers.js'

const b = (...parts: (number | string | Uint8Array)[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => typeof p === 'number' ? [p] : typeof p === 'string' ? [...utf8(p)] : [...p]))
const ac = fromHex(v.authenticatorChallenge), pc = fromHex(v.peerChallenge), nt = fromHex(v.ntResponse)
const users = testVerifier({ User: { password: 'clientPass' }, alice: { password: 'secret' }, locked: { password: 'x', locked: true } })

function pair(server: EapMethodName[], client: EapMethodName[], user = 'User', password = 'clientPass', extra: Parameters<typeof pump>[2] = {}, timing = {}) {
  return pump(
    createAuthenticator('eap', { rng: fixedRng(21), name: 'gw', eapMethods: server, ...timing }),
    createAuthPeer('eap', { rng: fixedRng(22), user, password, eapMethods: client, ...timing }),
    { verdict: users, ...extra },
  )
}

test(`EAP-MS-CHAPv2 over PPP on the wire, RFC 2759 §9.2 values (${v.source})`, () => {
  const r = pump(
    new EapAuthenticatorCore({ rng: scriptedRng(Uint8Array.of(0x29), ac), name: 'gw', eapMethods: ['eap-mschapv2'] }),
    new EapPeerCore({ rng: scriptedRng(pc), user: 'User', password: 'clientPass' }),
    { verdict: users },
  )
  const success = `${v.authenticatorResponse} M=Access granted`
  assert.deepEqual(r.wire.map((w) => `${w.dir} ${toHex(w.bytes)}`), [
    `a->p ${toHex(b(0x01, 0x2a, 0x00, 0x05, 0x01))}`, // RFC 3748 §5.1 Request/Identity
    `p->a ${toHex(b(0x02, 0x2a, 0x00, 0x09, 0x01, 'User'))}`, // Response/Identity
    `a->p ${toHex(b(0x01, 0x2b, 0x00, 0x1c, 0x1a, 0x01, 0x2b, 0x00, 0x17, 0x10, ac, 'gw'))}`, // draft §2.1 Challenge
    `p->a ${toHex(b(0x02, 0x2b, 0x00, 0x3f, 0x1a, 0x02, 0x2b, 0x00, 0x3a, 0x31, pc, new Uint8Array(8), nt, 0x00, 'User'))}`, // §2.2 Response
    `a->p ${toHex(b(0x01, 0x2c, 0x00, 9 + success.length, 0x1a, 0x03, 0x2b, 0x00, 4 + success.length, success))}`, // §2.3 Success Request
    `p->a ${toHex(b(0x02, 0x2c, 0x00, 0x06, 0x1a, 0x03))}`, // §2.4 Success Response
    `a->p ${toHex(b(0x03, 0x2c, 0x00, 0x04))}`, // RFC 3748 §4.2 Success, Identifier of the last Response
  ])
  const a = outcome(r.auth), p = outcome(r.peer)
  assert.deepEqual(a, { type: 'success', user: 'User', method: 'eap-mschapv2', keys: { method: 'eap-mschapv2', masterKey: fromHex(v.masterKey) } })
  assert.deepEqual(p, { type: 'success', user: 'User', method: 'eap-mschapv2', keys: { method: 'eap-mschapv2', masterKey: fromHex(v.masterKey) } })
})

test('EAP-MS-CHAPv2 pair with random challenges: equal MasterKey; wrong password: both fail bad-credentials', () => {
  const ok = pair(['eap-mschapv2'], ['eap-mschapv2'])
  const a = outcome(ok.auth), p = outcome(ok.peer)
  assert.ok(a.type === 'success' && p.type === 'success')
  assert.deepEqual(a.keys, p.keys)
  const bad = pair(['eap-mschapv2'], ['eap-mschapv2'], 'User', 'nope')
  const fa = outcome(bad.auth), fp = outcome(bad.peer)
  assert.equal(fa.type === 'failure' && fa.reason, 'bad-credentials')
  assert.equal(fp.type === 'failure' && fp.reason, 'bad-credentials')
  assert.deepEqual([...bad.wire.at(-1)!.bytes.subarray(0, 1)], [0x04]) // EAP Failure closes it
  const locked = pair(['eap-mschapv2'], ['eap-mschapv2'], 'locked', 'x')
  const lp = outcome(locked.peer)
  assert.equal(lp.type === 'failure' && lp.reason, 'locked')
})

test('EAP-MD5 pair: success and failure', () => {
  const ok = pair(['eap-md5'], ['eap-md5'], 'alice', 'secret')
  assert.deepEqual(outcome(ok.auth), { type: 'success', user: 'alice', method: 'eap-md5' })
  assert.deepEqual(outcome(ok.peer), { type: 'success', user: 'alice', method: 'eap-md5' })
  assert.equal(ok.proofs[0]!.method, 'chap-md5')
  const bad = pair(['eap-md5'], ['eap-md5'], 'alice', 'wrong')
  const fa = outcome(bad.auth), fp = outcome(bad.peer)
  assert.equal(fa.type === 'failure' && fa.reason, 'bad-credentials')
  assert.equal(fp.type === 'failure' && fp.reason, 'bad-credentials')
})

test('Nak (RFC 3748 §5.3.1): server proposes MD5, the peer Naks toward MS-CHAPv2, the server switches', () => {
  const r = pair(['eap-md5', 'eap-mschapv2'], ['eap-mschapv2'])
  const nak = r.wire.find((w) => w.dir === 'p->a' && w.bytes[4] === 0x03)
  assert.ok(nak)
  assert.deepEqual([...nak.bytes.subarray(2)], [0x00, 0x06, 0x03, 0x1a])
  const a = outcome(r.auth), p = outcome(r.peer)
  assert.equal(a.type === 'success' && a.method, 'eap-mschapv2')
  assert.equal(p.type === 'success' && p.method, 'eap-mschapv2')
  assert.equal(r.proofs.length, 1)
})

test('Nak toward a method the server does not allow -> EAP Failure, method-not-allowed', () => {
  const r = pair(['eap-md5'], ['eap-mschapv2'])
  const a = outcome(r.auth), p = outcome(r.peer)
  assert.equal(a.type === 'failure' && a.reason, 'method-not-allowed')
  assert.equal(p.type, 'failure')
  assert.equal(r.proofs.length, 0)
})

test('the MS-CHAPv2 Response name must name the EAP identity: a renamed identity is refused before AAA', () => {
  const rename = (x: Uint8Array): Uint8Array => x[0] === 0x02 && x[4] === 0x01 ? b(0x02, x[1]!, 0x00, 0x0c, 0x01, 'mallory') : x
  const r = pair(['eap-mschapv2'], ['eap-mschapv2'], 'User', 'clientPass', { tamperToAuth: rename })
  assert.equal(r.proofs.length, 0, 'nothing reaches AAA')
  const a = outcome(r.auth)
  assert.equal(a.type === 'failure' && a.reason, 'identity-mismatch')
})

test('a DOMAIN\\ prefix on the EAP identity still matches the Response name; the Response name is verified', () => {
  const domain = (x: Uint8Array): Uint8Array => x[0] === 0x02 && x[4] === 0x01 ? b(0x02, x[1]!, 0x00, 0x0e, 0x01, 'CORP\\User') : x
  const r = pair(['eap-mschapv2'], ['eap-mschapv2'], 'User', 'clientPass', { tamperToAuth: domain })
  assert.equal(r.proofs[0]!.user, 'User')
  assert.equal(outcome(r.auth).type, 'success')
})

test('a tampered S= or an early EAP Success makes the peer fail with mutual-auth-failed', () => {
  const flip = (x: Uint8Array): Uint8Array => {
    if (!(x[0] === 0x01 && x[4] === 0x1a && x[5] === 0x03)) return x
    const t = x.slice(); t[11] = t[11] === 0x30 ? 0x31 : 0x30; return t // a hex digit of S=
  }
  const r = pair(['eap-mschapv2'], ['eap-mschapv2'], 'User', 'clientPass', { tamperToPeer: flip })
  const p = outcome(r.peer)
  assert.equal(p.type === 'failure' && p.reason, 'mutual-auth-failed')
  // A rogue authenticator skipping straight to EAP Success after the Response.
  const early = (x: Uint8Array): Uint8Array => x[0] === 0x01 && x[4] === 0x1a && x[5] === 0x03 ? b(0x03, (x[1]! - 1) & 0xff, 0x00, 0x04) : x
  const r2 = pair(['eap-mschapv2'], ['eap-mschapv2'], 'User', 'clientPass', { tamperToPeer: early })
  const p2 = outcome(r2.peer)
  assert.equal(p2.type === 'failure' && p2.reason, 'mutual-auth-failed')
})

test('lost Requests and Responses: the authenticator retransmits, the peer answers duplicates from its cache', () => {
  for (let n = 0; n < 3; n++) {
    for (const loss of [{ loseToPeer: (i: number) => i === n }, { loseToAuth: (i: number) => i === n }]) {
      const r = pair(['eap-mschapv2'], ['eap-mschapv2'], 'User', 'clientPass', loss, { restartMs: 1000 })
      const a = outcome(r.auth), p = outcome(r.peer)
      assert.ok(a.type === 'success' && p.type === 'success', `loss ${JSON.stringify(Object.keys(loss))} #${n}`)
      assert.deepEqual(a.keys, p.keys)
      assert.equal(r.proofs.length, 1)
      // Every MS-CHAPv2 Response on the wire is the same bytes: duplicates were not reprocessed (§4.1).
      const responses = new Set(r.wire.filter((w) => w.dir === 'p->a' && w.bytes[5] === 0x02).map((w) => toHex(w.bytes)))
      assert.equal(responses.size, 1)
    }
  }
})

test('max retries: authenticator gives up with timeout after 1 + maxRetries Requests; peer times out too', () => {
  const r = pair(['eap-mschapv2'], ['eap-mschapv2'], 'User', 'clientPass', { loseToPeer: () => true }, { restartMs: 100, maxRetries: 3 })
  const a = outcome(r.auth), p = outcome(r.peer)
  assert.equal(a.type === 'failure' && a.reason, 'timeout')
  assert.equal(p.type === 'failure' && p.reason, 'timeout')
  assert.equal(r.wire.filter((w) => w.dir === 'a->p' && w.bytes[0] === 0x01).length, 4)
})

test('peer answers Notification with an empty Notification Response (§5.2) and Naks unknown Types', () => {
  const peer = new EapPeerCore({ rng: fixedRng(1), user: 'u', password: 'p', eapMethods: ['eap-mschapv2', 'eap-md5'] })
  peer.start(0)
  peer.handlePacket(0, b(0x01, 0x07, 0x00, 0x08, 0x02, 'hi!'))
  assert.deepEqual(peer.pollPacket(), b(0x02, 0x07, 0x00, 0x05, 0x02))
  peer.handlePacket(0, b(0x01, 0x08, 0x00, 0x06, 0x0d, 0x20)) // EAP-TLS Start
  assert.deepEqual(peer.pollPacket(), b(0x02, 0x08, 0x00, 0x07, 0x03, 0x1a, 0x04))
  assert.equal(peer.pollEvent(), undefined)
})

test('authenticator drops Responses with a stale Identifier, the wrong Type or bad framing', () => {
  const auth = new EapAuthenticatorCore({ rng: scriptedRng(Uint8Array.of(0x10)), name: 'gw' })
  auth.start(0)
  assert.deepEqual(auth.pollPacket(), b(0x01, 0x11, 0x00, 0x05, 0x01))
  auth.handlePacket(0, b(0x02, 0x10, 0x00, 0x06, 0x01, 'x')) // stale Identifier
  auth.handlePacket(0, b(0x02, 0x11, 0x00, 0x06, 0x04, 0x00)) // MD5 answer to an Identity Request
  auth.handlePacket(0, b(0x02, 0x11, 0x00, 0x06, 0x03, 0x04)) // Nak to Identity (§5.3.1: only for methods)
  auth.handlePacket(0, b(0x02, 0x11, 0x00, 0x09, 0x01, 'x')) // Length beyond the packet
  auth.handlePacket(0, b(0x01, 0x11, 0x00, 0x05, 0x01)) // a Request sent to the authenticator
  assert.equal(auth.pollEvent(), undefined)
  assert.equal(auth.pollPacket(), undefined)
  const c = auth.counters()
  assert.equal(c['drop:identifier-mismatch'], 1)
  assert.equal(c['drop:type-mismatch'], 1)
  assert.equal(c['drop:nak-out-of-place'], 1)
  assert.equal(c['drop:malformed'], 1)
  assert.equal(c['drop:unexpected-code'], 1)
})

test('peer takes EAP Success with the last Identifier or last+1 (deployed-server quirk), drops others', () => {
  const run = (delta: number): string => {
    const peer = new EapPeerCore({ rng: fixedRng(1), user: 'alice', password: 'secret', eapMethods: ['eap-md5'] })
    peer.start(0)
    peer.handlePacket(0, b(0x01, 0x40, 0x00, 0x16, 0x04, 0x10, new Uint8Array(16), 'gw'))
    assert.ok(peer.pollPacket())
    peer.handlePacket(0, b(0x03, (0x40 + delta) & 0xff, 0x00, 0x04))
    const e = peer.pollEvent()
    return e === undefined ? 'none' : e.type
  }
  assert.equal(run(0), 'success')
  assert.equal(run(1), 'success')
  assert.equal(run(2), 'none')
  assert.equal(run(-1), 'none')
})

test('an unanswered EAP-MS-CHAPv2 Failure-Request ends with the verdict reason, not a bare timeout', () => {
  // Losses toward the authenticator from the third Response on: Identity and MS-CHAPv2 Response arrive.
  const r = pair(['eap-mschapv2'], ['eap-mschapv2'], 'User', 'wrong', { loseToAuth: (n) => n >= 2 }, { restartMs: 100, maxRetries: 2 })
  const a = outcome(r.auth), p = outcome(r.peer)
  assert.equal(a.type === 'failure' && a.reason, 'bad-credentials')
  assert.equal(p.type === 'failure' && p.reason, 'bad-credentials')
  assert.equal(r.wire.filter((w) => w.dir === 'a->p' && w.bytes[5] === 0x04).length, 3) // Failure-Request sent 1 + maxRetries times
  // §4.1: each repeated Failure-Request is answered with the original Failure-Response, even after the peer concluded.
  assert.equal(r.wire.filter((w) => w.dir === 'p->a' && w.bytes[4] === 0x1a && w.bytes[5] === 0x04).length, 3)
})

test('a Nak in the middle of a method (not to its opening Request) is dropped, not a method switch', () => {
  const auth = new EapAuthenticatorCore({ rng: fixedRng(3), name: 'gw', eapMethods: ['eap-mschapv2', 'eap-md5'] })
  const peer = new EapPeerCore({ rng: fixedRng(4), user: 'User', password: 'clientPass' })
  auth.start(0); peer.start(0)
  const move = (from: { pollPacket(): Uint8Array | undefined }, to: { handlePacket(n: number, b: Uint8Array): void }): Uint8Array[] => {
    const out: Uint8Array[] = []
    for (let p = from.pollPacket(); p; p = from.pollPacket()) { out.push(p); to.handlePacket(0, p) }
    return out
  }
  move(auth, peer); move(peer, auth) // Identity
  move(auth, peer); move(peer, auth) // Challenge / Response
  const verify = auth.pollEvent()
  assert.equal(verify?.type, 'verify')
  if (verify?.type === 'verify') auth.handleVerdict(0, users(verify.proof))
  const sreq = auth.pollPacket()!
  auth.handlePacket(0, b(0x02, sreq[1]!, 0x00, 0x06, 0x03, 0x04)) // Nak toward MD5 instead of a Success-Response
  assert.equal(auth.pollPacket(), undefined)
  assert.equal(auth.pollEvent(), undefined)
  assert.equal((auth as EapAuthenticatorCore).counters()['drop:nak-out-of-place'], 1)
})

// MS-CHAPv2 against the RFC 2759 §9.2 worked example, plus verification outcomes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  challengeHash, challengeResponse, checkAuthenticatorResponse, generateAuthenticatorResponse, generateNtResponse,
  generateNtResponseFromHash, hashNtPasswordHash, ntPasswordHash, stripDomain, verifyMsChapV2,
} from '../../src/auth/mschapv2.js'
import { getMasterKey } from '../../src/auth/mppe-keys.js'
import { fromHex, toHex } from '../../src/lib/bytes.js'
import { loadVectors } from '../crypto/load-vectors.js'

const v = loadVectors<{
  userName: string; password: string; authenticatorChallenge: string; peerChallenge: string; challenge: string
  passwordHash: string; ntResponse: string; passwordHashHash: string; authenticatorResponse: string
}>('crypto', 'mschapv2')
const auth = fromHex(v.authenticatorChallenge)
const peer = fromHex(v.peerChallenge)
const upper = (b: Uint8Array): string => toHex(b).toUpperCase()

test(`every intermediate of ${v.source}`, () => {
  assert.equal(upper(ntPasswordHash(v.password)), v.passwordHash)
  assert.equal(upper(hashNtPasswordHash(fromHex(v.passwordHash))), v.passwordHashHash)
  assert.equal(upper(challengeHash(peer, auth, v.userName)), v.challenge)
  assert.equal(upper(challengeResponse(fromHex(v.challenge), fromHex(v.passwordHash))), v.ntResponse)
  assert.equal(upper(generateNtResponse(auth, peer, v.userName, v.password)), v.ntResponse)
  assert.equal(upper(generateNtResponseFromHash(auth, peer, v.userName, fromHex(v.passwordHash))), v.ntResponse)
  assert.equal(generateAuthenticatorResponse(fromHex(v.passwordHash), fromHex(v.ntResponse), peer, auth, v.userName), v.authenticatorResponse)
})

test('checkAuthenticatorResponse accepts the RFC value (any hex case) and rejects others', () => {
  const h = fromHex(v.passwordHash), nt = fromHex(v.ntResponse)
  assert.equal(checkAuthenticatorResponse(h, nt, peer, auth, v.userName, v.authenticatorResponse), true)
  assert.equal(checkAuthenticatorResponse(h, nt, peer, auth, v.userName, 'S=' + v.authenticatorResponse.slice(2).toLowerCase()), true)
  assert.equal(checkAuthenticatorResponse(h, nt, peer, auth, v.userName, v.authenticatorResponse.slice(0, 41) + '7'), false)
  assert.equal(checkAuthenticatorResponse(h, nt, peer, auth, v.userName, v.authenticatorResponse + ' '), false)
  assert.equal(checkAuthenticatorResponse(h, nt, peer, auth, v.userName, ''), false)
  assert.equal(checkAuthenticatorResponse(ntPasswordHash('wrong'), nt, peer, auth, v.userName, v.authenticatorResponse), false)
})

test('a domain prefix is stripped from the hashed user name (RFC 2759 §8.2)', () => {
  assert.equal(stripDomain('CORP\\User'), 'User')
  assert.equal(stripDomain('User'), 'User')
  assert.deepEqual(challengeHash(peer, auth, 'CORP\\User'), challengeHash(peer, auth, 'User'))
  assert.equal(upper(generateNtResponse(auth, peer, 'EXAMPLE\\User', v.password)), v.ntResponse)
})

test('verifyMsChapV2 accepts the RFC example and returns the authenticator response and MasterKey', () => {
  const r = verifyMsChapV2(fromHex(v.passwordHash), { user: v.userName, authenticatorChallenge: auth, peerChallenge: peer, ntResponse: fromHex(v.ntResponse) })
  assert.equal(r.ok, true)
  if (!r.ok) return
  assert.equal(r.authenticatorResponse, v.authenticatorResponse)
  assert.equal(upper(r.masterKey), upper(getMasterKey(fromHex(v.passwordHashHash), fromHex(v.ntResponse))))
  assert.equal(upper(r.masterKey), 'FDECE3717A8C838CB388E527AE3CDD31') // RFC 3079 §3.5.1 MasterKey
})

test('verifyMsChapV2 rejects wrong passwords, users, challenges and malformed lengths without throwing', () => {
  const nt = fromHex(v.ntResponse)
  const good = { user: v.userName, authenticatorChallenge: auth, peerChallenge: peer, ntResponse: nt }
  assert.deepEqual(verifyMsChapV2(ntPasswordHash('clientPasS'), good), { ok: false })
  assert.deepEqual(verifyMsChapV2(fromHex(v.passwordHash), { ...good, user: 'user' }), { ok: false })
  assert.deepEqual(verifyMsChapV2(fromHex(v.passwordHash), { ...good, peerChallenge: auth }), { ok: false })
  assert.deepEqual(verifyMsChapV2(fromHex(v.passwordHash), { ...good, ntResponse: nt.subarray(0, 23) }), { ok: false })
  assert.deepEqual(verifyMsChapV2(fromHex(v.passwordHash), { ...good, authenticatorChallenge: new Uint8Array(8) }), { ok: false })
  assert.deepEqual(verifyMsChapV2(new Uint8Array(15), good), { ok: false })
  const flipped = nt.slice(); flipped[23]! ^= 1
  assert.deepEqual(verifyMsChapV2(fromHex(v.passwordHash), { ...good, ntResponse: flipped }), { ok: false })
})

test('verifyMsChapV2 never throws on arbitrary peer fields, and a peer computing honestly always verifies', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 30 }), fc.uint8Array({ maxLength: 30 }), fc.uint8Array({ maxLength: 30 }), fc.string(), (a, p, n, user) => {
    const r = verifyMsChapV2(fromHex(v.passwordHash), { user, authenticatorChallenge: a, peerChallenge: p, ntResponse: n })
    assert.equal(typeof r.ok, 'boolean')
  }))
  fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.string(), fc.string(), (a, p, user, pw) => {
    const h = ntPasswordHash(pw)
    const nt = generateNtResponse(a, p, user, pw)
    const r = verifyMsChapV2(h, { user, authenticatorChallenge: a, peerChallenge: p, ntResponse: nt })
    assert.equal(r.ok, true)
    if (r.ok) assert.equal(checkAuthenticatorResponse(h, nt, p, a, user, r.authenticatorResponse), true)
  }), { numRuns: 50 })
})

test('NT hash uses UTF-16LE code units (non-ASCII passwords)', () => {
  // MD4 of the empty string (RFC 1320 §A.5) is the NT hash of the empty password.
  assert.equal(toHex(ntPasswordHash('')), '31d6cfe0d16ae931b73c59d7e0c089c0')
  assert.notDeepEqual(ntPasswordHash('pässword'), ntPasswordHash('passwörd'))
})

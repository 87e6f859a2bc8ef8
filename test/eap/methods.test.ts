// EAP method cores without a carrier: MD5-Challenge (RFC 3748 §5.4) and EAP-MS-CHAPv2
// (draft-kamath-pppext-eap-mschapv2-02 §2, RFC 2759 §9.2 values), step by step.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { fromHex, toHex, utf8 } from '../../src/lib/bytes.js'
import { EapMd5Peer, EapMd5Server } from '../../src/auth/eap/md5.js'
import { EapMsChapV2Peer, EapMsChapV2Server } from '../../src/auth/eap/mschapv2.js'
import { createEapPeerMethod, createEapServerMethod, eapMethodForType, EAP_METHOD_TYPES } from '../../src/auth/eap/methods.js'
import { rfc2759 as v, scriptedRng, testVerifier } from '../ppp-auth/helpers.js'

const b = (...parts: (number | string | Uint8Array)[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => typeof p === 'number' ? [p] : typeof p === 'string' ? [...utf8(p)] : [...p]))
const ac = fromHex(v.authenticatorChallenge), pc = fromHex(v.peerChallenge), nt = fromHex(v.ntResponse)
const verifier = testVerifier({ User: { password: 'clientPass' }, alice: { password: 'secret' } })

test('method table: MD5-Challenge is Type 4, EAP-MS-CHAPv2 Type 26', () => {
  assert.deepEqual(EAP_METHOD_TYPES, { 'eap-md5': 4, 'eap-mschapv2': 26 })
  assert.equal(eapMethodForType(26), 'eap-mschapv2')
  assert.equal(eapMethodForType(13), undefined)
  assert.ok(createEapServerMethod('eap-md5', { rng: scriptedRng(), serverName: 'gw', identity: 'x' }) instanceof EapMd5Server)
  assert.ok(createEapPeerMethod('eap-mschapv2', { rng: scriptedRng(), user: 'x', password: 'y' }) instanceof EapMsChapV2Peer)
})

test('EAP-MD5: Value = MD5(EAP Identifier || password || challenge) (RFC 3748 §5.4), identity is the verified user', () => {
  const ch = Uint8Array.from({ length: 16 }, (_, i) => 3 * i)
  const server = new EapMd5Server({ rng: scriptedRng(ch), serverName: 'gw', identity: 'alice' })
  assert.deepEqual(server.initiate(0x33), b(0x10, ch, 'gw'))
  const peer = new EapMd5Peer({ user: 'alice', password: 'secret' })
  assert.equal(peer.handleSuccess().ok, false) // nothing answered yet
  const step = peer.handleRequest(0x33, b(0x10, ch, 'gw'))
  const expected = new Uint8Array(createHash('md5').update(Uint8Array.of(0x33)).update('secret').update(ch).digest())
  assert.deepEqual(step, { kind: 'respond', typeData: b(0x10, expected, 'alice') })
  const verify = server.handleResponse(0x33, step.kind === 'respond' ? step.typeData : new Uint8Array(0))
  assert.deepEqual(verify, { kind: 'verify', proof: { method: 'chap-md5', user: 'alice', id: 0x33, challenge: ch, response: expected } })
  assert.deepEqual(server.handleVerdict(verify.kind === 'verify' ? verifier(verify.proof) : { ok: false, reason: '', message: '' }), { kind: 'success', user: 'alice' })
  assert.deepEqual(peer.handleSuccess(), { ok: true })
})

test(`EAP-MS-CHAPv2 method run with the RFC 2759 §9.2 values (${v.source})`, () => {
  const server = new EapMsChapV2Server({ rng: scriptedRng(ac), serverName: 'gw', identity: 'User' })
  const peer = new EapMsChapV2Peer({ rng: scriptedRng(pc), user: 'User', password: 'clientPass' })
  const challenge = server.initiate(0x10)
  assert.deepEqual(challenge, b(0x01, 0x10, 0x00, 0x17, 0x10, ac, 'gw'))
  const resp = peer.handleRequest(0x10, challenge)
  // §2.2 Response: OpCode 2, MS-CHAPv2-ID echoed, MS-Length 4+1+49+4 = 58, Value-Size 49, Name
  assert.deepEqual(resp, { kind: 'respond', typeData: b(0x02, 0x10, 0x00, 0x3a, 0x31, pc, new Uint8Array(8), nt, 0x00, 'User') })
  assert.equal(peer.handleSuccess().ok, false, 'EAP Success before the Success-Request proves nothing')
  const verify = server.handleResponse(0x10, resp.kind === 'respond' ? resp.typeData : new Uint8Array(0))
  assert.equal(verify.kind, 'verify')
  const sreq = server.handleVerdict(verify.kind === 'verify' ? verifier(verify.proof) : { ok: false, reason: '', message: '' })
  const message = `${v.authenticatorResponse} M=Access granted`
  assert.deepEqual(sreq, { kind: 'request', typeData: b(0x03, 0x10, 0x00, 4 + message.length, message), onTimeout: { reason: 'timeout', message: 'no answer to the EAP-MS-CHAPv2 Success-Request' } })
  const sresp = peer.handleRequest(0x11, sreq.kind === 'request' ? sreq.typeData : new Uint8Array(0))
  assert.deepEqual(sresp, { kind: 'respond', typeData: b(0x03) })
  const done = server.handleResponse(0x11, b(0x03))
  assert.equal(done.kind, 'success')
  assert.deepEqual(done.kind === 'success' && done.keys, { method: 'eap-mschapv2', masterKey: fromHex(v.masterKey) })
  const ok = peer.handleSuccess()
  assert.ok(ok.ok && toHex(ok.keys!.masterKey).toUpperCase() === v.masterKey && ok.keys!.method === 'eap-mschapv2')
})

test('EAP-MS-CHAPv2: a wrong S= fails mutual authentication without answering', () => {
  const peer = new EapMsChapV2Peer({ rng: scriptedRng(pc), user: 'User', password: 'clientPass' })
  peer.handleRequest(0x10, b(0x01, 0x10, 0x00, 0x17, 0x10, ac, 'gw'))
  const wrong = 'S=407A5589115FD0D6209F510FE9C04566932CDA57 M=x'
  const step = peer.handleRequest(0x11, b(0x03, 0x10, 0x00, 4 + wrong.length, wrong))
  assert.equal(step.kind === 'fail' && step.reason, 'mutual-auth-failed')
  assert.equal(peer.handleSuccess().ok, false)
})

test('EAP-MS-CHAPv2: rejecting verdict -> Failure-Request E=691, Failure-Response, then failure with the verdict reason', () => {
  const server = new EapMsChapV2Server({ rng: scriptedRng(ac), serverName: 'gw', identity: 'User' })
  const peer = new EapMsChapV2Peer({ rng: scriptedRng(pc), user: 'User', password: 'wrong' })
  const resp = peer.handleRequest(0x10, server.initiate(0x10))
  const verify = server.handleResponse(0x10, resp.kind === 'respond' ? resp.typeData : new Uint8Array(0))
  const freq = server.handleVerdict(verify.kind === 'verify' ? verifier(verify.proof) : { ok: true, user: '' })
  assert.equal(freq.kind, 'request')
  const text = freq.kind === 'request' ? new TextDecoder().decode(freq.typeData.subarray(4)) : ''
  assert.match(text, /^E=691 R=0 C=[0-9A-F]{32} V=3 M=/)
  assert.deepEqual(freq.kind === 'request' && freq.typeData.subarray(0, 4), b(0x04, 0x10, 0x00, freq.kind === 'request' ? freq.typeData.length : 0))
  const fresp = peer.handleRequest(0x11, freq.kind === 'request' ? freq.typeData : new Uint8Array(0))
  assert.equal(fresp.kind, 'respond')
  assert.deepEqual(fresp.kind === 'respond' && fresp.typeData, b(0x04))
  assert.equal(fresp.kind === 'respond' && fresp.failure?.reason, 'bad-credentials')
  assert.deepEqual(server.handleResponse(0x11, b(0x04)), { kind: 'failure', reason: 'bad-credentials', message: 'wrong password for User' })
})

test('EAP-MS-CHAPv2 server drops a Response with the wrong MS-CHAPv2-ID or value size', () => {
  const server = new EapMsChapV2Server({ rng: scriptedRng(ac), serverName: 'gw', identity: 'User' })
  server.initiate(0x10)
  assert.deepEqual(server.handleResponse(0x10, b(0x02, 0x11, 0x00, 0x3a, 0x31, pc, new Uint8Array(8), nt, 0x00, 'User')), { kind: 'drop', reason: 'ms-chapv2-id-mismatch' })
  assert.deepEqual(server.handleResponse(0x10, b(0x02, 0x10, 0x00, 0x39, 0x30, pc, new Uint8Array(8), nt, 'User')), { kind: 'drop', reason: 'bad-response-length' })
  assert.deepEqual(server.handleResponse(0x10, b(0x03)), { kind: 'drop', reason: 'unexpected-opcode' })
})

// Property tests: hostile bytes into every auth core, in every phase, never throw and never
// produce an outcome out of nothing (DESIGN.md §5: drop and count).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { DecodeError } from '../../src/lib/errors.js'
import { decodePap } from '../../src/ppp/auth/pap-codec.js'
import { decodeChap } from '../../src/ppp/auth/chap-codec.js'
import { decodeAuthOption, createAuthenticator, createAuthPeer } from '../../src/ppp/auth/index.js'
import type { PppAuthCore, PppAuthMethod } from '../../src/ppp/auth/types.js'
import { fixedRng } from '../helpers/clock.js'
import { testVerifier } from './helpers.js'

const METHODS: PppAuthMethod[] = ['pap', 'chap-md5', 'mschapv2', 'eap']
const verdict = testVerifier({ User: { password: 'clientPass' } })

/** Random bytes, or a well-framed packet (valid Code/Identifier/Length) with a random body, to get past the header. */
const packet = fc.oneof(
  fc.uint8Array({ maxLength: 96 }),
  fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 90 })).map(([code, id, body]) => {
    const out = new Uint8Array(4 + body.length)
    out.set([code, id, (out.length >> 8) & 0xff, out.length & 0xff])
    out.set(body, 4)
    return out
  }),
)

/** Drives a fresh pair part-way (`steps` deliveries) so the fuzzed core is mid-exchange. */
function advanced(method: PppAuthMethod, role: 'auth' | 'peer', steps: number): PppAuthCore {
  const auth = createAuthenticator(method, { rng: fixedRng(5), name: 'gw', eapMethods: ['eap-md5', 'eap-mschapv2'] })
  const peer = createAuthPeer(method, { rng: fixedRng(6), user: 'User', password: 'clientPass', eapMethods: ['eap-mschapv2'] })
  auth.start(0); peer.start(0)
  for (let i = 0; i < steps; i++) {
    for (let p = auth.pollPacket(); p; p = auth.pollPacket()) peer.handlePacket(0, p)
    for (let p = peer.pollPacket(); p; p = peer.pollPacket()) auth.handlePacket(0, p)
    for (let e = auth.pollEvent(); e; e = auth.pollEvent()) if (e.type === 'verify') auth.handleVerdict(0, verdict(e.proof))
  }
  const core = role === 'auth' ? auth : peer
  while (core.pollEvent()) { /* discard what the honest exchange produced */ }
  return core
}

test('property: random and framed-random packets never throw out of any core, in any phase', () => {
  for (const method of METHODS) {
    for (const role of ['auth', 'peer'] as const) {
      fc.assert(fc.property(fc.integer({ min: 0, max: 3 }), fc.array(packet, { maxLength: 6 }), (steps, packets) => {
        const core = advanced(method, role, steps)
        for (const p of packets) core.handlePacket(1, p)
        core.handleTimeout(1)
        for (let e = core.pollEvent(); e; e = core.pollEvent()) {
          // A hostile packet may end the phase (a Failure, a refused mutual auth) but never makes an
          // authenticator accept, nor an MS-CHAPv2/EAP-MS-CHAPv2 peer accept a server that proved nothing.
          // (A PAP Ack or CHAP-MD5 Success with the right Identifier is, by design of those protocols, believed.)
          if (e.type === 'success') assert.ok(role === 'peer' && (method === 'pap' || method === 'chap-md5'), `${method}/${role}: success from random bytes`)
        }
        while (core.pollPacket()) { /* drain */ }
      }), { numRuns: 300 })
    }
  }
})

test('property: PAP/CHAP decoders and the option decoder only throw DecodeError', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
    for (const f of [decodePap, decodeChap]) {
      try { f(bytes) } catch (e) { assert.ok(e instanceof DecodeError, String(e)) }
    }
    decodeAuthOption(bytes)
  }), { numRuns: 3000 })
})

test('after an outcome no timer stays armed (a stale deadline would spin the driver)', () => {
  for (const method of METHODS) {
    for (const password of ['clientPass', 'wrong']) {
      const auth = createAuthenticator(method, { rng: fixedRng(5), name: 'gw', eapMethods: ['eap-mschapv2'] })
      const peer = createAuthPeer(method, { rng: fixedRng(6), user: 'User', password, eapMethods: ['eap-mschapv2'] })
      auth.start(0); peer.start(0)
      for (let i = 0; i < 6; i++) {
        for (let p = auth.pollPacket(); p; p = auth.pollPacket()) peer.handlePacket(0, p)
        for (let p = peer.pollPacket(); p; p = peer.pollPacket()) auth.handlePacket(0, p)
        for (let e = auth.pollEvent(); e; e = auth.pollEvent()) if (e.type === 'verify') auth.handleVerdict(0, verdict(e.proof))
      }
      assert.equal(auth.nextTimeout(), undefined, `${method} authenticator, password ${password}`)
      assert.equal(peer.nextTimeout(), undefined, `${method} peer, password ${password}`)
    }
  }
})

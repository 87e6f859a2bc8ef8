// Test support for the PPP auth and EAP cores: scripted randomness, a verifier built from the
// real crypto (standing in for AAA), and an in-memory pump that runs two cores back to back.
import { utf8, constantTimeEqual } from '../../src/lib/bytes.js'
import type { Rng } from '../../src/crypto/rng.js'
import type { AuthProof, AuthVerdict } from '../../src/auth/types.js'
import { chapMd5Response } from '../../src/auth/chap-md5.js'
import { ntPasswordHash, verifyMsChapV2 } from '../../src/auth/mschapv2.js'
import type { AuthSideEvent, PppAuthCore } from '../../src/ppp/auth/types.js'
import { fixedRng, ManualClock } from '../helpers/clock.js'
import { loadVectors } from '../crypto/load-vectors.js'

/** An Rng that hands out `chunks` in order (each call must ask for exactly the next chunk's length), then falls back to fixedRng. */
export function scriptedRng(...chunks: Uint8Array[]): Rng {
  const rest = fixedRng(7)
  return {
    bytes(n: number): Uint8Array {
      const c = chunks.shift()
      if (c === undefined) return rest.bytes(n)
      if (c.length !== n) throw new Error(`scriptedRng: asked for ${n} bytes, script has ${c.length}`)
      return c.slice()
    },
  }
}

export interface TestUser { readonly password: string; readonly locked?: boolean }

/** A verifier standing in for AAA, computed with the project's crypto functions. */
export function testVerifier(users: Record<string, TestUser>): (proof: AuthProof) => AuthVerdict {
  return (proof) => {
    const u = users[proof.user]
    if (u === undefined) return { ok: false, reason: 'no-such-user', message: `no user ${proof.user}`, mschapError: 691 }
    if (u.locked) return { ok: false, reason: 'locked', message: `${proof.user} is locked`, mschapError: 647 }
    const bad: AuthVerdict = { ok: false, reason: 'bad-credentials', message: `wrong password for ${proof.user}`, mschapError: 691 }
    switch (proof.method) {
      case 'pap': return proof.password === u.password ? { ok: true, user: proof.user } : bad
      case 'chap-md5': return constantTimeEqual(chapMd5Response(proof.id, utf8(u.password), proof.challenge), proof.response) ? { ok: true, user: proof.user } : bad
      case 'mschapv2': {
        const r = verifyMsChapV2(ntPasswordHash(u.password), proof)
        return r.ok ? { ok: true, user: proof.user, authenticatorResponse: r.authenticatorResponse, keys: { method: 'mschapv2', masterKey: r.masterKey } } : bad
      }
    }
  }
}

export interface PumpResult {
  readonly auth: AuthSideEvent[]
  readonly peer: AuthSideEvent[]
  readonly proofs: AuthProof[]
  /** Packets in flight order, tagged by direction, as sent (before any loss). */
  readonly wire: { readonly dir: 'a->p' | 'p->a'; readonly bytes: Uint8Array }[]
  readonly clock: ManualClock
}

export interface PumpOptions {
  /** Return true to lose the n-th packet (0-based, per direction). */
  readonly loseToPeer?: (n: number, bytes: Uint8Array) => boolean
  readonly loseToAuth?: (n: number, bytes: Uint8Array) => boolean
  /** Rewrites a packet on its way to the peer (tampering). */
  readonly tamperToPeer?: (bytes: Uint8Array) => Uint8Array
  /** Rewrites a packet on its way to the authenticator. */
  readonly tamperToAuth?: (bytes: Uint8Array) => Uint8Array
  readonly verdict?: (proof: AuthProof) => AuthVerdict
  readonly maxSteps?: number
}

const final = (events: AuthSideEvent[]): boolean => events.some((e) => e.type === 'success' || e.type === 'failure')

/** Runs `auth` and `peer` against each other until both conclude or no timer is left. */
export function pump(auth: PppAuthCore, peer: PppAuthCore, opts: PumpOptions = {}): PumpResult {
  const clock = new ManualClock()
  const res: PumpResult = { auth: [], peer: [], proofs: [], wire: [], clock }
  let toPeer = 0, toAuth = 0
  auth.start(clock.now)
  peer.start(clock.now)
  for (let step = 0; step < (opts.maxSteps ?? 10_000); step++) {
    let moved = false
    for (let p = auth.pollPacket(); p; p = auth.pollPacket()) {
      moved = true
      res.wire.push({ dir: 'a->p', bytes: p })
      if (opts.loseToPeer?.(toPeer++, p)) continue
      peer.handlePacket(clock.now, opts.tamperToPeer ? opts.tamperToPeer(p) : p)
    }
    for (let p = peer.pollPacket(); p; p = peer.pollPacket()) {
      moved = true
      res.wire.push({ dir: 'p->a', bytes: p })
      if (opts.loseToAuth?.(toAuth++, p)) continue
      auth.handlePacket(clock.now, opts.tamperToAuth ? opts.tamperToAuth(p) : p)
    }
    for (let e = auth.pollEvent(); e; e = auth.pollEvent()) {
      moved = true
      if (e.type === 'verify') {
        res.proofs.push(e.proof)
        auth.handleVerdict(clock.now, (opts.verdict ?? testVerifier({}))(e.proof))
      } else res.auth.push(e)
    }
    for (let e = peer.pollEvent(); e; e = peer.pollEvent()) { moved = true; res.peer.push(e) }
    if (moved) continue
    if (final(res.auth) && final(res.peer)) break
    const next = [auth.nextTimeout(), peer.nextTimeout()].filter((t): t is number => t !== undefined)
    if (next.length === 0) break
    clock.now = Math.max(clock.now, Math.min(...next))
    auth.handleTimeout(clock.now)
    peer.handleTimeout(clock.now)
  }
  return res
}

export const rfc2759 = loadVectors<{
  userName: string; password: string; authenticatorChallenge: string; peerChallenge: string
  ntResponse: string; authenticatorResponse: string; masterKey: string
}>('auth', 'mschapv2-exchange')

/** The single outcome event of a side, asserting there is exactly one. */
export function outcome(events: AuthSideEvent[]): Extract<AuthSideEvent, { type: 'success' | 'failure' }> {
  const f = events.filter((e): e is Extract<AuthSideEvent, { type: 'success' | 'failure' }> => e.type === 'success' || e.type === 'failure')
  if (f.length !== 1) throw new Error(`expected exactly one outcome, got ${JSON.stringify(f.map((e) => e.type))}`)
  return f[0]!
}

// Two real PppSession cores (server + client) back to back in memory with a ManualClock, and a tiny
// AAA stand-in that verifies proofs with the real credential code (src/auth). Test helper, not a test.
import { PppSession } from '../../src/ppp/session.js'
import type { PppClientOptions, PppServerOptions } from '../../src/ppp/types.js'
import type { PppEvent } from '../../src/ppp/types.js'
import type { AuthProof, AuthVerdict } from '../../src/auth/types.js'
import { verifyMsChapV2, ntPasswordHash } from '../../src/auth/mschapv2.js'
import { chapMd5Response } from '../../src/auth/chap-md5.js'
import { bytesEqual, utf8 } from '../../src/lib/bytes.js'
import { ManualClock, fixedRng } from '../helpers/clock.js'

export const USERS: Record<string, string> = { alice: 'correct horse', bob: 'battery staple' }
export const ASSIGNED = '198.19.0.10'

export function verify(proof: AuthProof): AuthVerdict {
  const pw = USERS[proof.user]
  const bad: AuthVerdict = { ok: false, reason: 'bad-credentials', message: `bad credentials for ${proof.user}`, mschapError: 691 }
  if (pw === undefined) return bad
  switch (proof.method) {
    case 'pap': return proof.password === pw ? { ok: true, user: proof.user, address: ASSIGNED } : bad
    case 'chap-md5': return bytesEqual(chapMd5Response(proof.id, utf8(pw), proof.challenge), proof.response) ? { ok: true, user: proof.user, address: ASSIGNED } : bad
    case 'mschapv2': {
      const v = verifyMsChapV2(ntPasswordHash(pw), proof)
      return v.ok ? { ok: true, user: proof.user, authenticatorResponse: v.authenticatorResponse, keys: { method: 'mschapv2', masterKey: v.masterKey }, address: ASSIGNED } : bad
    }
  }
}

export interface PairOptions {
  server?: Partial<PppServerOptions>
  client?: Partial<PppClientOptions>
  /** AAA answers authRequest events (default true). */
  answerAuth?: boolean
}

export class Pair {
  readonly clock = new ManualClock()
  readonly server: PppSession
  readonly client: PppSession
  readonly serverEvents: PppEvent[] = []
  readonly clientEvents: PppEvent[] = []
  /** Drop this many of the next frames in each direction. */
  dropToServer = 0
  dropToClient = 0
  /** Cut a direction entirely. */
  cutToServer = false
  cutToClient = false
  readonly sentToServer: Uint8Array[] = []
  readonly sentToClient: Uint8Array[] = []
  private readonly answerAuth: boolean

  constructor(o: PairOptions = {}) {
    this.answerAuth = o.answerAuth ?? true
    this.server = new PppSession({
      role: 'server', rng: fixedRng(0x1111), authMethods: ['mschapv2'], authName: 'gatehouse',
      localAddress: '198.19.0.1', dns: ['198.19.0.53', '9.9.9.9'], echoIntervalMs: 10_000, echoFailures: 3, ...o.server,
    } as PppServerOptions, this.clock.now)
    this.client = new PppSession({
      role: 'client', rng: fixedRng(0x2222), user: 'alice', password: USERS.alice!, echoIntervalMs: 10_000, echoFailures: 3, ...o.client,
    } as PppClientOptions, this.clock.now)
  }

  open(): void { this.server.open(this.clock.now); this.client.open(this.clock.now); this.pump() }

  /** Moves frames and events until both sides are quiet at the current time. */
  pump(): void {
    for (let i = 0; i < 1000; i++) {
      let moved = false
      for (let f = this.server.pollFrame(); f; f = this.server.pollFrame()) {
        moved = true
        this.sentToClient.push(f)
        if (this.cutToClient) continue
        if (this.dropToClient > 0) { this.dropToClient--; continue }
        this.client.handleFrame(this.clock.now, f)
      }
      for (let f = this.client.pollFrame(); f; f = this.client.pollFrame()) {
        moved = true
        this.sentToServer.push(f)
        if (this.cutToServer) continue
        if (this.dropToServer > 0) { this.dropToServer--; continue }
        this.server.handleFrame(this.clock.now, f)
      }
      for (let e = this.server.pollEvent(); e; e = this.server.pollEvent()) {
        moved = true
        this.serverEvents.push(e)
        if (e.type === 'authRequest' && this.answerAuth) this.server.handleAuthResult(this.clock.now, verify(e.proof))
      }
      for (let e = this.client.pollEvent(); e; e = this.client.pollEvent()) { moved = true; this.clientEvents.push(e) }
      if (!moved) return
    }
    throw new Error('pair did not settle')
  }

  /** Runs timers until `ms` from now has passed (or nothing is scheduled). */
  run(ms: number): void {
    const end = this.clock.now + ms
    this.pump()
    for (let i = 0; i < 10_000; i++) {
      const ts = [this.server.nextTimeout(), this.client.nextTimeout()].filter((x): x is number => x !== undefined)
      const t = Math.min(...ts)
      if (ts.length === 0 || t > end) break
      this.clock.now = Math.max(this.clock.now, t)
      this.server.handleTimeout(this.clock.now)
      this.client.handleTimeout(this.clock.now)
      this.pump()
    }
    this.clock.now = Math.max(this.clock.now, end)
  }

  find(side: 'server' | 'client', type: PppEvent['type']): PppEvent | undefined {
    return (side === 'server' ? this.serverEvents : this.clientEvents).find((e) => e.type === type)
  }
}

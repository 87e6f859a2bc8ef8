// In-memory SSTP server core <-> client core with real PppSessions (MS-CHAPv2) and a manual clock.
import type { AuthProof, AuthVerdict } from '../../src/auth/types.js'
import { ntPasswordHash } from '../../src/auth/nt-hash.js'
import { verifyMsChapV2 } from '../../src/auth/mschapv2.js'
import { sha1, sha256 } from '../../src/crypto/hash.js'
import { PppSession } from '../../src/ppp/session.js'
import type { PppClientOptions, PppServerOptions } from '../../src/ppp/types.js'
import type { SstpEvent } from '../../src/sstp/connection-base.js'
import { SstpServerConnection } from '../../src/sstp/server-connection.js'
import type { SstpServerOptions } from '../../src/sstp/server-connection.js'
import { SstpClientConnection } from '../../src/sstp/client-connection.js'
import type { SstpClientOptions } from '../../src/sstp/client-connection.js'
import { ManualClock, fixedRng } from '../helpers/clock.js'

export const PASSWORD = 'clientPass-42'
export const SERVER_CERT_DER = fixedRng(0xc0ffee).bytes(420) // stands in for the DER certificate: only its hashes matter

/** AAA stand-in: verifies MS-CHAPv2 against PASSWORD's NT hash, as the gateway's local store does. */
export function verify(proof: AuthProof): AuthVerdict {
  if (proof.method !== 'mschapv2') return { ok: false, reason: 'method-not-allowed', message: proof.method }
  const r = verifyMsChapV2(ntPasswordHash(PASSWORD), proof)
  if (!r.ok) return { ok: false, reason: 'bad-credentials', message: 'wrong password', mschapError: 691 }
  return { ok: true, user: proof.user, authenticatorResponse: r.authenticatorResponse, keys: { method: 'mschapv2', masterKey: r.masterKey }, address: '198.19.0.10' }
}

export interface PairOptions {
  readonly clientPassword?: string
  readonly server?: Partial<SstpServerOptions>
  readonly client?: Partial<SstpClientOptions>
  readonly pppServer?: Partial<PppServerOptions>
  readonly pppClient?: Partial<PppClientOptions>
}

export class Pair {
  readonly clock = new ManualClock()
  readonly server: SstpServerConnection
  readonly client: SstpClientConnection
  readonly serverEvents: SstpEvent[] = []
  readonly clientEvents: SstpEvent[] = []
  /** Wire taps (whole chunks as written), for assertions. */
  readonly toServer: Uint8Array[] = []
  readonly toClient: Uint8Array[] = []
  /** Set false to black-hole one direction. */
  deliverToServer = true
  deliverToClient = true
  autoVerify = true

  constructor(o: PairOptions = {}) {
    const now = this.clock.now
    this.server = new SstpServerConnection({
      rng: fixedRng(1), certHashSha256: sha256(SERVER_CERT_DER), certHashSha1: sha1(SERVER_CERT_DER),
      createPpp: (t) => new PppSession({ role: 'server', rng: fixedRng(2), authMethods: ['mschapv2'], authName: 'gatehouse', localAddress: '198.19.0.1', dns: ['198.19.0.53'], ...o.pppServer }, t),
      ...o.server,
    }, now)
    this.client = new SstpClientConnection({
      rng: fixedRng(3), host: 'gw.test', serverCertDer: SERVER_CERT_DER,
      createPpp: (t) => new PppSession({ role: 'client', rng: fixedRng(4), user: 'alice', password: o.clientPassword ?? PASSWORD, ...o.pppClient }, t),
      ...o.client,
    }, now)
  }

  /** Moves bytes and events until both sides are quiet. Delivers Node Buffers, as a TLS socket does (Buffer#slice aliases). */
  pump(): void {
    for (let i = 0; i < 1000; i++) {
      let moved = false
      for (let b = this.client.pollTransmit(); b; b = this.client.pollTransmit()) { moved = true; this.toServer.push(b); if (this.deliverToServer) this.server.handleBytes(this.clock.now, Buffer.from(b)) }
      for (let b = this.server.pollTransmit(); b; b = this.server.pollTransmit()) { moved = true; this.toClient.push(b); if (this.deliverToClient) this.client.handleBytes(this.clock.now, Buffer.from(b)) }
      for (let e = this.server.pollEvent(); e; e = this.server.pollEvent()) {
        moved = true
        this.serverEvents.push(e)
        if (e.type === 'authRequest' && this.autoVerify) this.server.handleAuthResult(this.clock.now, verify(e.proof))
      }
      for (let e = this.client.pollEvent(); e; e = this.client.pollEvent()) { moved = true; this.clientEvents.push(e) }
      if (!moved) return
    }
    throw new Error('pair did not settle')
  }

  /** Pumps, then advances the clock timer by timer up to `ms` or until `until` holds. */
  run(ms: number, until?: () => boolean): void {
    const end = this.clock.now + ms
    this.pump()
    while (!(until?.() ?? false)) {
      const ts = [this.server.nextTimeout(), this.client.nextTimeout()].filter((t): t is number => t !== undefined)
      const next = ts.length ? Math.max(Math.min(...ts), this.clock.now) : undefined
      if (next === undefined || next > end) { this.clock.now = Math.max(this.clock.now, end); break }
      this.clock.now = next
      this.server.handleTimeout(next)
      this.client.handleTimeout(next)
      this.pump()
    }
  }

  ev(side: 'server' | 'client', type: SstpEvent['type']): SstpEvent[] {
    return (side === 'server' ? this.serverEvents : this.clientEvents).filter((e) => e.type === type)
  }
  closed(side: 'server' | 'client'): Extract<SstpEvent, { type: 'closed' }> | undefined {
    return this.ev(side, 'closed')[0] as Extract<SstpEvent, { type: 'closed' }> | undefined
  }
}

/** A minimal IPv4/UDP-ish packet from a to b (header fields only need to look like IPv4 to PPP). */
export function ipPacket(src: string, dst: string, payload: number): Uint8Array {
  const p = new Uint8Array(28)
  p[0] = 0x45; p[3] = 28; p[8] = 64; p[9] = 17
  p.set(src.split('.').map(Number), 12)
  p.set(dst.split('.').map(Number), 16)
  p[27] = payload
  return p
}

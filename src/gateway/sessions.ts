// The gateway's session registry, independent of the carrier protocol: authentication through AAA
// with an address from the pool, registration in the data plane once the link is up, and one
// accounting record per session written when it ends (whatever the reason).
import type { AuthProof, AuthVerdict } from '../auth/types.js'
import type { SessionInfo } from '../control/api.js'
import type { Logger } from '../lib/log.js'

/** What the registry needs from a carrier connection (an SSTP connection now; PPTP/L2TP later). */
export interface CarrierSession {
  readonly id: string
  readonly protocol: string
  /** Outer peer address "ip:port". */
  readonly peer: string
  sendIp(packet: Uint8Array): void
  close(reason: string, message: string): void
}

export interface AaaBackend {
  verify(proof: AuthProof, now: number): AuthVerdict
}
export interface AccountingSink {
  start(rec: { id: string; user: string; protocol: string; peer: string; start: number }): void
  end(id: string, rec: { end: number; assignedAddress?: string; bytesIn: number; bytesOut: number; packetsIn: number; packetsOut: number; reason: string }): void
  failedAuth(rec: { user: string; protocol: string; peer: string; at: number; reason: string }): void
}
export interface AddressAllocator {
  allocate(preferred?: string): string | undefined
  release(addr: string): void
}
export interface SessionRoutes {
  /** Delivers packets for `address` to `sink` from now on. */
  add(address: string, sink: { sendIp(packet: Uint8Array): void }): void
  remove(address: string): void
  /** A packet the session received from its client: checked (anti-spoofing) and forwarded. */
  fromSession(address: string, packet: Uint8Array): void
}

interface Entry {
  readonly carrier: CarrierSession
  user: string | undefined
  address: string | undefined
  state: 'authenticating' | 'up' | 'closing'
  readonly start: number
  recordOpen: boolean
  bytesIn: number
  bytesOut: number
  packetsIn: number
  packetsOut: number
}

export class SessionRegistry {
  private readonly entries = new Map<string, Entry>()
  private readonly waiters = new Set<() => void>()
  private readonly aaa: AaaBackend
  private readonly accounting: AccountingSink
  private readonly pool: AddressAllocator
  private readonly routes: SessionRoutes
  private readonly log: Logger

  constructor(deps: { aaa: AaaBackend; accounting: AccountingSink; pool: AddressAllocator; routes: SessionRoutes; log: Logger }) {
    this.aaa = deps.aaa
    this.accounting = deps.accounting
    this.pool = deps.pool
    this.routes = deps.routes
    this.log = deps.log
  }

  get size(): number { return this.entries.size }

  opened(carrier: CarrierSession, now: number): void {
    this.entries.set(carrier.id, { carrier, user: undefined, address: undefined, state: 'authenticating', start: now, recordOpen: false, bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 })
    this.log.info('connection', { session: carrier.id, protocol: carrier.protocol, peer: carrier.peer })
  }

  /** Verifies a proof and, on success, reserves an address; failures leave a record. */
  authenticate(id: string, proof: AuthProof, now: number): AuthVerdict {
    const e = this.entries.get(id)
    if (!e) return { ok: false, reason: 'no-session', message: 'session is gone' }
    let verdict: AuthVerdict
    try {
      verdict = this.aaa.verify(proof, now)
    } catch (err) {
      this.log.error('authentication backend failed', { session: id, error: (err as Error).message })
      verdict = { ok: false, reason: 'backend-error', message: 'authentication backend failed' }
    }
    if (verdict.ok) {
      const address = this.pool.allocate(verdict.address)
      if (!address) {
        verdict = { ok: false, reason: 'pool-exhausted', message: 'no free address in the client pool' }
      } else {
        if (e.address) this.pool.release(e.address)
        e.address = address
        e.user = verdict.user
        verdict = { ...verdict, address }
      }
    }
    if (!verdict.ok) {
      this.log.warn('authentication refused', { session: id, user: proof.user, peer: e.carrier.peer, reason: verdict.reason })
      this.accounting.failedAuth({ user: proof.user, protocol: e.carrier.protocol, peer: e.carrier.peer, at: now, reason: verdict.reason })
    } else {
      this.log.info('authenticated', { session: id, user: verdict.user, method: proof.method, address: verdict.address })
      this.accounting.start({ id, user: verdict.user, protocol: e.carrier.protocol, peer: e.carrier.peer, start: now })
      e.recordOpen = true
    }
    return verdict
  }

  /** The link is up with this address: route its packets to it. */
  up(id: string, peerAddress: string): void {
    const e = this.entries.get(id)
    if (!e) return
    if (e.address && e.address !== peerAddress) {
      this.log.warn('peer address differs from the assigned one; closing', { session: id, assigned: e.address, peer: peerAddress })
      e.carrier.close('address-mismatch', 'negotiated address differs from the assigned address')
      return
    }
    e.address = peerAddress
    e.state = 'up'
    this.routes.add(peerAddress, { sendIp: (p) => { e.packetsOut++; e.bytesOut += p.length; e.carrier.sendIp(p) } })
    this.log.info('session up', { session: id, user: e.user, address: peerAddress })
  }

  /** An IP packet from the client. */
  ip(id: string, packet: Uint8Array): void {
    const e = this.entries.get(id)
    if (!e || e.state !== 'up' || !e.address) return
    e.packetsIn++
    e.bytesIn += packet.length
    this.routes.fromSession(e.address, packet)
  }

  /** The carrier ended (exactly once per session): free everything and write the record. */
  closed(id: string, reason: string, message: string, now: number): void {
    const e = this.entries.get(id)
    if (!e) return
    this.entries.delete(id)
    if (e.address) {
      if (e.state === 'up' || e.state === 'closing') this.routes.remove(e.address)
      this.pool.release(e.address)
    }
    if (e.recordOpen) {
      this.accounting.end(id, { end: now, assignedAddress: e.address, bytesIn: e.bytesIn, bytesOut: e.bytesOut, packetsIn: e.packetsIn, packetsOut: e.packetsOut, reason })
    }
    this.log.info('session closed', { session: id, user: e.user, reason, message, bytesIn: e.bytesIn, bytesOut: e.bytesOut })
    if (this.entries.size === 0) for (const w of this.waiters) w()
  }

  list(): SessionInfo[] {
    return [...this.entries.values()].map((e) => ({
      id: e.carrier.id, user: e.user ?? '', protocol: e.carrier.protocol, peer: e.carrier.peer, address: e.address, state: e.state,
      start: e.start, bytesIn: e.bytesIn, bytesOut: e.bytesOut, packetsIn: e.packetsIn, packetsOut: e.packetsOut,
    }))
  }

  disconnect(id: string, reason = 'admin', message = 'disconnected by the administrator'): boolean {
    const e = this.entries.get(id)
    if (!e) return false
    e.state = e.state === 'up' ? 'closing' : e.state
    e.carrier.close(reason, message)
    return true
  }

  /** Closes every session and resolves when all have ended (or after timeoutMs). */
  closeAll(reason: string, message: string, timeoutMs: number): Promise<void> {
    for (const id of [...this.entries.keys()]) this.disconnect(id, reason, message)
    if (this.entries.size === 0) return Promise.resolve()
    return new Promise((resolve) => {
      const done = (): void => { this.waiters.delete(done); clearTimeout(t); resolve() }
      const t = setTimeout(done, timeoutMs)
      this.waiters.add(done)
    })
  }

  /** Sessions that did not end in time: force their records closed. */
  forceCloseRemaining(reason: string, now: number): void {
    for (const id of [...this.entries.keys()]) this.closed(id, reason, 'forced at shutdown', now)
  }
}

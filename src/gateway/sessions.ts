// The gateway's session registry, independent of the carrier protocol: authentication through AAA
// with an address from the pool, registration in the data plane once the link is up, and one
// accounting record per session written when it ends (whatever the reason). A router account's
// networks (verdict routes, RFC 2865 §5.22) go into the data plane and the kernel while it is up.
import type { AuthProof, AuthVerdict } from '../auth/types.js'
import type { SessionInfo } from '../control/api.js'
import type { Logger } from '../lib/log.js'
import { VpnError } from '../lib/errors.js'
import { prefixesOverlap } from '../aaa/framed-routes.js'
import { tryParsePrefix } from '../ip/prefix.js'

/** What the registry needs from a carrier connection (an SSTP connection now; PPTP/L2TP later). */
export interface CarrierSession {
  readonly id: string
  readonly protocol: string
  /** Outer peer address "ip:port". */
  readonly peer: string
  sendIp(packet: Uint8Array): void
  close(reason: string, message: string): void
  /** The carrier's own non-zero counters (drops by reason, loss, resync), for `sessions --json`. */
  counters?(): Record<string, number>
}

export interface AaaBackend {
  /** May answer later (PAP's scrypt on the thread pool, RADIUS); must not reject. */
  verify(proof: AuthProof, now: number): AuthVerdict | Promise<AuthVerdict>
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
/** Traffic of one session as the data plane counted it (accepted packets only). */
export interface TrafficCounters { readonly inPackets: number; readonly inBytes: number; readonly outPackets: number; readonly outBytes: number }
/** A session's attachment to the data plane. */
export interface SessionPort {
  readonly traffic: TrafficCounters
  /** A packet from the client: checked (anti-spoofing, header) and forwarded. */
  receive(packet: Uint8Array): void
  detach(): void
}
export interface SessionRoutes {
  /**
   * Delivers packets for `address` and for `prefixes` (a router account's networks) to `sink`
   * from now on. Throws VpnError ERR_ROUTE_IN_USE when another session holds an overlapping prefix.
   */
  attach(address: string, sink: { sendIp(packet: Uint8Array): void }, prefixes?: readonly string[]): SessionPort
}
/**
 * The kernel side of a router account's networks: a route sending each prefix into the TUN
 * (`ip route replace PREFIX dev TUN`), removed when the session ends. Failures reject; the
 * registry logs them and never lets them end or disturb a session.
 */
export interface KernelRoutes {
  add(prefix: string): Promise<void>
  remove(prefix: string): Promise<void>
}
const NO_TRAFFIC: TrafficCounters = { inPackets: 0, inBytes: 0, outPackets: 0, outBytes: 0 }

interface Entry {
  readonly carrier: CarrierSession
  user: string | undefined
  address: string | undefined
  state: 'authenticating' | 'up' | 'closing'
  readonly start: number
  recordOpen: boolean
  port: SessionPort | undefined
  /** The verdict's routes, attached at up(). */
  routes: readonly string[]
  /** Routes this session installed (data plane + kernel); only these are removed at close. */
  installed: readonly string[]
  /** The kernel routes of `installed` are this session's to add and remove (false: a configured link's, kept while it is down). */
  kernelRoutes: boolean
  /** The address came from our pool (an answered call), not from the peer (a link we dialled). */
  readonly fromPool: boolean
}

export class SessionRegistry {
  private readonly entries = new Map<string, Entry>()
  private readonly waiters = new Set<() => void>()
  private readonly aaa: AaaBackend
  private readonly accounting: AccountingSink
  private readonly pool: AddressAllocator
  private readonly routes: SessionRoutes
  private readonly kernel: KernelRoutes | undefined
  /** Per prefix, the last kernel operation: add/remove of one prefix run in order (see kernelOp). */
  private readonly kernelOps = new Map<string, Promise<void>>()
  /** Which session added each kernel route (only its owner removes it). */
  private readonly kernelOwner = new Map<string, string>()
  private readonly log: Logger

  /** `kernelRoutes`: absent in tests without a TUN; router sessions then route in the data plane only. */
  constructor(deps: { aaa: AaaBackend; accounting: AccountingSink; pool: AddressAllocator; routes: SessionRoutes; kernelRoutes?: KernelRoutes; log: Logger }) {
    this.aaa = deps.aaa
    this.accounting = deps.accounting
    this.pool = deps.pool
    this.routes = deps.routes
    this.kernel = deps.kernelRoutes
    this.log = deps.log
  }

  get size(): number { return this.entries.size }

  opened(carrier: CarrierSession, now: number): void {
    this.entries.set(carrier.id, { carrier, user: undefined, address: undefined, state: 'authenticating', start: now, recordOpen: false, port: undefined, routes: [], installed: [], kernelRoutes: true, fromPool: true })
    this.log.info('connection', { session: carrier.id, protocol: carrier.protocol, peer: carrier.peer })
  }

  /** Verifies a proof and, on success, reserves an address; failures leave a record. */
  async authenticate(id: string, proof: AuthProof, now: number): Promise<AuthVerdict> {
    if (!this.entries.has(id)) return { ok: false, reason: 'no-session', message: 'session is gone' }
    let verdict: AuthVerdict
    try {
      verdict = await this.aaa.verify(proof, now)
    } catch (err) {
      this.log.error('authentication backend failed', { session: id, error: (err as Error).message })
      verdict = { ok: false, reason: 'backend-error', message: 'authentication backend failed' }
    }
    // The connection may have ended while AAA was thinking: reserve nothing for it then.
    const e = this.entries.get(id)
    if (!e) return { ok: false, reason: 'no-session', message: 'session is gone' }
    if (verdict.ok && e.user !== undefined) {
      // Re-authentication (LCP renegotiated, RFC 1661 §4.1 RCR in Opened): the same user keeps the
      // same address, routes and record; another user may not take over the session.
      verdict = verdict.user === e.user
        ? { ...verdict, address: e.address, ...(e.routes.length > 0 ? { routes: e.routes } : {}) }
        : { ok: false, reason: 'reauth-user-changed', message: `re-authentication as ${verdict.user} on a session of ${e.user ?? '?'}` }
      if (verdict.ok) { this.log.info('re-authenticated', { session: id, user: verdict.user }); return verdict }
    } else if (verdict.ok) {
      const address = this.pool.allocate(verdict.address)
      if (!address) {
        verdict = { ok: false, reason: 'pool-exhausted', message: 'no free address in the client pool' }
      } else {
        e.address = address
        e.user = verdict.user
        e.routes = verdict.routes ?? []
        verdict = { ...verdict, address }
      }
    }
    if (!verdict.ok) {
      this.log.warn('authentication refused', { session: id, user: proof.user, peer: e.carrier.peer, reason: verdict.reason })
      const rec = { user: proof.user, protocol: e.carrier.protocol, peer: e.carrier.peer, at: now, reason: verdict.reason }
      this.record('failedAuth', () => this.accounting.failedAuth(rec))
    } else {
      this.log.info('authenticated', { session: id, user: verdict.user, method: proof.method, address: verdict.address, routes: verdict.routes })
      const rec = { id, user: verdict.user, protocol: e.carrier.protocol, peer: e.carrier.peer, start: now }
      e.recordOpen = this.record('start', () => this.accounting.start(rec))
    }
    return verdict
  }

  /**
   * The link is up with this address: route its packets (and a router account's networks) to it.
   * A network another session holds closes this one with reason 'routes-in-use'.
   */
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
    if (e.port) return // a repeated up (IPCP renegotiated): already attached
    let err = this.attach(e, peerAddress)
    if (err instanceof VpnError && err.code === 'ERR_ROUTE_IN_USE' && this.replaceStale(e)) err = this.attach(e, peerAddress)
    if (err instanceof VpnError && err.code === 'ERR_ROUTE_IN_USE') {
      this.log.warn('routes of this router account are held by another session; closing', { session: id, user: e.user, error: err.message })
      e.carrier.close('routes-in-use', `routes in use by another session: ${err.message}`)
      return
    }
    if (err) {
      this.log.error('cannot attach session to the data plane; closing', { session: id, error: err.message })
      e.carrier.close('internal-error', 'address already in use')
      return
    }
    this.log.info('session up', { session: id, user: e.user, address: peerAddress, routes: e.installed.length > 0 ? e.installed : undefined })
  }

  /**
   * A router account that connects again while its previous session still holds its networks (the
   * old path died and our keepalive has not noticed yet) takes them over: a router is in one place at
   * a time, and waiting would keep its networks dark for the whole echo timeout. Only sessions of the
   * same account are replaced; returns whether any was.
   */
  private replaceStale(e: Entry): boolean {
    const mine = e.routes.map((p) => tryParsePrefix(p)).filter((p) => p !== undefined)
    const holders = [...this.entries.values()].filter((o) => o !== e && o.installed.some((t) => {
      const h = tryParsePrefix(t)
      return h !== undefined && mine.some((m) => prefixesOverlap(m, h))
    }))
    if (holders.length === 0 || holders.some((o) => o.user !== e.user)) return false
    for (const o of holders) {
      this.log.warn('router account connected again: replacing its previous session', { session: o.carrier.id, by: e.carrier.id, user: e.user })
      this.closed(o.carrier.id, 'replaced', 'the router account connected again', Date.now())
      o.carrier.close('replaced', 'the router account connected again')
    }
    return true
  }

  /**
   * A link this gateway dialled is up (the router-to-router dialler, src/gateway/links.ts):
   * registers it as a session with the peer's tunnel address and the peer's networks `routes`,
   * installs them (data plane + kernel) and opens its accounting record. Returns undefined, or the
   * reason it was refused (routes held by another session, address in use); nothing is kept then.
   * Packets from the link go to ip(id, ...); it ends with closed(id, ...) like any session.
   */
  linkUp(carrier: CarrierSession, info: { readonly user: string; readonly peerAddress: string; readonly routes: readonly string[]; readonly kernelRoutes?: boolean }, now: number): string | undefined {
    if (this.entries.has(carrier.id)) return `session ${carrier.id} exists already`
    const e: Entry = { carrier, user: info.user, address: info.peerAddress, state: 'up', start: now, recordOpen: false, port: undefined, routes: info.routes, installed: [], kernelRoutes: info.kernelRoutes ?? true, fromPool: false }
    const err = this.attach(e, info.peerAddress)
    if (err) {
      this.log.warn('link refused by the data plane', { session: carrier.id, user: info.user, error: err.message })
      return err.message
    }
    this.entries.set(carrier.id, e)
    const rec = { id: carrier.id, user: info.user, protocol: carrier.protocol, peer: carrier.peer, start: now }
    e.recordOpen = this.record('start', () => this.accounting.start(rec))
    this.log.info('link session up', { session: carrier.id, user: info.user, address: info.peerAddress, routes: info.routes.length > 0 ? info.routes : undefined })
    return undefined
  }

  /** True when a live session carries a network overlapping one of `prefixes` (the peer dialled us already). */
  routesHeld(prefixes: readonly string[]): boolean {
    const wanted = prefixes.map((p) => tryParsePrefix(p)).filter((p) => p !== undefined)
    for (const e of this.entries.values()) {
      for (const text of e.installed) {
        const held = tryParsePrefix(text)
        if (held && wanted.some((w) => prefixesOverlap(w, held))) return true
      }
    }
    return false
  }

  /** Attaches `e` at `address` with its routes and starts the kernel routes; returns the attach error instead of throwing. */
  private attach(e: Entry, address: string): Error | undefined {
    try {
      e.port = this.routes.attach(address, { sendIp: (p) => e.carrier.sendIp(p) }, e.routes)
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err))
    }
    e.installed = e.routes
    if (e.kernelRoutes) for (const prefix of e.installed) this.kernelOp('add', prefix, e.carrier.id)
    return undefined
  }

  /**
   * Runs a kernel route change after the previous change of the same prefix settled, so a router
   * that drops and reconnects at once cannot have its new route deleted by the old session's
   * late removal. Never rejects.
   */
  private kernelOp(op: 'add' | 'remove', prefix: string, session: string): void {
    const kernel = this.kernel
    if (!kernel) return
    const prev = this.kernelOps.get(prefix) ?? Promise.resolve()
    // A route this session did not add (the add failed: the host, or a configured link, routes the
    // prefix already) is not this session's to remove.
    const run = (): Promise<void> => {
      if (op === 'add') return kernel.add(prefix).then(() => { this.kernelOwner.set(prefix, session) })
      if (this.kernelOwner.get(prefix) !== session) { this.log.debug('kernel route not ours; left in place', { session, prefix }); return Promise.resolve() }
      this.kernelOwner.delete(prefix)
      return kernel.remove(prefix)
    }
    const next = prev.then(run).then(
      () => { this.log.debug(op === 'add' ? 'kernel route added' : 'kernel route removed', { session, prefix }) },
      (err: unknown) => { this.log.error(`cannot ${op} the kernel route`, { session, prefix, error: (err as Error)?.message ?? String(err) }) },
    )
    this.kernelOps.set(prefix, next)
    void next.then(() => { if (this.kernelOps.get(prefix) === next) this.kernelOps.delete(prefix) })
  }

  /** Resolves when every kernel route change started so far has settled (shutdown, tests). */
  async kernelRoutesSettled(): Promise<void> {
    while (this.kernelOps.size > 0) await Promise.all([...this.kernelOps.values()])
  }

  /** An IP packet from the client. */
  ip(id: string, packet: Uint8Array): void {
    const e = this.entries.get(id)
    e?.port?.receive(packet)
  }

  /** The carrier ended (exactly once per session): free everything and write the record. */
  closed(id: string, reason: string, message: string, now: number): void {
    const e = this.entries.get(id)
    if (!e) return
    this.entries.delete(id)
    e.port?.detach()
    if (e.kernelRoutes) for (const prefix of e.installed) this.kernelOp('remove', prefix, id)
    if (e.address && e.fromPool) this.pool.release(e.address)
    const t = e.port?.traffic ?? NO_TRAFFIC
    if (e.recordOpen) {
      const rec = { end: now, assignedAddress: e.address, bytesIn: t.inBytes, bytesOut: t.outBytes, packetsIn: t.inPackets, packetsOut: t.outPackets, reason }
      this.record('end', () => this.accounting.end(id, rec))
    }
    this.log.info('session closed', { session: id, user: e.user, reason, message, bytesIn: t.inBytes, bytesOut: t.outBytes })
    if (this.entries.size === 0) for (const w of this.waiters) w()
  }

  /** Writes an accounting record; a storage failure (disk full, database locked) is logged, never thrown into a connection. */
  private record(what: string, write: () => void): boolean {
    try {
      write()
      return true
    } catch (err) {
      this.log.error(`cannot write the accounting ${what} record`, { error: (err as Error).message })
      return false
    }
  }

  list(): SessionInfo[] {
    return [...this.entries.values()].map((e) => {
      const t = e.port?.traffic ?? NO_TRAFFIC
      return {
        id: e.carrier.id, user: e.user ?? '', protocol: e.carrier.protocol, peer: e.carrier.peer, address: e.address, state: e.state,
        start: e.start, bytesIn: t.inBytes, bytesOut: t.outBytes, packetsIn: t.inPackets, packetsOut: t.outPackets,
        ...(e.routes.length > 0 ? { routes: e.routes } : {}),
        ...(e.carrier.counters ? { counters: nonZero(e.carrier.counters()) } : {}),
      }
    })
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

function nonZero(c: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(c)) if (v !== 0) out[k] = v
  return out
}

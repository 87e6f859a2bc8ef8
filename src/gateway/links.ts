// Router-to-router links (the RRAS persistent demand-dial connection over PPTP, RFC 2637 PNS role):
// the gateway dials another gateway as a router account, routes the peer's subnets over the call,
// and redials with back-off whenever it drops.
import type { LinkConfig } from '../config/schema.js'
import type { CarrierSession } from './sessions.js'
import type { PptpDial, PptpDialOptions } from '../client/pptp-dial.js'
import type { Logger } from '../lib/log.js'
import { systemRng } from '../crypto/rng.js'
import { toHex } from '../lib/bytes.js'

/** What a link needs from the gateway: a session entry carrying the routes (registry + data plane + kernel routes). */
export interface LinkHost {
  /**
   * The link is up: account it, attach `routes` and the peer's tunnel address to it. Returns an error
   * message when the routes are already carried by another session (the link is then closed).
   */
  linkUp(carrier: CarrierSession, info: { user: string; peerAddress: string; routes: readonly string[] }, now: number): string | undefined
  ip(id: string, packet: Uint8Array): void
  closed(id: string, reason: string, message: string, now: number): void
  /** True when some session already carries one of these prefixes (the peer dialled us). */
  routesHeld(prefixes: readonly string[]): boolean
}

export interface LinkDialerDeps {
  readonly host: LinkHost
  readonly password: () => string
  readonly dial: (o: PptpDialOptions) => Promise<PptpDial>
  readonly mru: number
  readonly echoIntervalMs: number
  readonly echoFailures: number
  readonly log: Logger
  /** Delays between attempts (src/lib/backoff.ts): told when the link is up, asked for a delay after each failure or drop. */
  readonly backoff: { up(now: number): void; failed(now: number): number; readonly attempts: number }
  /** Timer and clock (tests pass a manual scheduler); default setTimeout and Date.now. */
  readonly timers?: LinkTimers
}

export interface LinkTimers {
  set(fn: () => void, ms: number): unknown
  clear(handle: unknown): void
  now(): number
}
const REAL_TIMERS: LinkTimers = { set: (fn, ms) => setTimeout(fn, ms), clear: (h) => clearTimeout(h as NodeJS.Timeout), now: () => Date.now() }

/** The least delay before redialling after the peer refused our credentials. */
export const AUTH_FAILED_RETRY_MS = 10 * 60_000

export type LinkState = 'idle' | 'waiting' | 'dialing' | 'up' | 'stopped'

export class LinkDialer {
  readonly link: LinkConfig
  private readonly d: LinkDialerDeps
  private st: LinkState = 'idle'
  private timer: unknown
  private readonly t: LinkTimers
  private current: PptpDial | undefined
  private upAt: number | undefined
  private lastError = ''
  private heldLogged = false

  constructor(link: LinkConfig, deps: LinkDialerDeps) {
    this.link = link
    this.d = deps
    this.t = deps.timers ?? REAL_TIMERS
  }

  get state(): LinkState { return this.st }

  start(): void {
    if (this.st !== 'idle') return
    this.schedule(0)
  }

  /** Stops redialling and closes the link (LCP Terminate, Call-Clear, Stop-Control-Connection). */
  stop(): void {
    this.st = 'stopped'
    if (this.timer !== undefined) this.t.clear(this.timer)
    this.timer = undefined
    this.current?.close('admin', 'gateway shutting down')
  }

  private schedule(ms: number): void {
    if (this.st === 'stopped') return
    this.st = 'waiting'
    this.timer = this.t.set(() => { this.timer = undefined; void this.attempt() }, ms)
  }

  private retry(minMs = 0): void {
    if (this.st === 'stopped') return
    const ms = Math.max(minMs, this.d.backoff.failed(this.t.now()))
    this.d.log.info('redialling link', { link: this.link.name, inSeconds: +(ms / 1000).toFixed(1), attempts: this.d.backoff.attempts })
    this.schedule(ms)
  }

  private async attempt(): Promise<void> {
    if (this.st === 'stopped') return
    const l = this.link
    // Either side may dial: while the peer's own link carries these subnets, a second call would only collide.
    if (this.d.host.routesHeld(l.routes)) {
      if (!this.heldLogged) { this.heldLogged = true; this.d.log.info('link not dialled: the peer has dialled us and carries its subnets', { link: l.name, routes: l.routes.join(',') }) }
      this.schedule(5000)
      return
    }
    this.heldLogged = false
    this.st = 'dialing'
    const id = `link-${l.name}-${toHex(systemRng.bytes(3))}`
    let registered = false
    let password: string
    try {
      password = this.d.password()
    } catch (e) {
      this.d.log.error('cannot read the link password', { link: l.name, error: (e as Error).message })
      this.retry()
      return
    }
    let dial: PptpDial | undefined
    try {
      dial = await this.d.dial({
        host: l.host, port: l.port, user: l.user, password, mru: this.d.mru,
        echoIntervalMs: this.d.echoIntervalMs, echoFailures: this.d.echoFailures,
        progress: (line) => this.d.log.debug(line, { link: l.name }),
        onUp: (ev) => {
          const carrier: CarrierSession = {
            id, protocol: 'pptp-link', peer: `${dial?.peerIp ?? l.host}:${l.port}`,
            sendIp: (p) => dial?.sendIp(p),
            close: (reason, message) => dial?.close(reason, message),
          }
          const refused = this.d.host.linkUp(carrier, { user: `${l.name} (as ${l.user})`, peerAddress: ev.peerAddress, routes: l.routes }, this.t.now())
          if (refused) {
            this.d.log.warn('link up but this gateway cannot route it; closing it', { link: l.name, error: refused })
            dial?.close('routes-in-use', refused)
            return
          }
          registered = true
          this.st = 'up'
          this.upAt = this.t.now()
          this.d.backoff.up(this.upAt)
          this.lastError = ''
          this.d.log.info('link up', { link: l.name, peer: l.host, local: ev.localAddress, remote: ev.peerAddress, routes: l.routes.join(',') })
        },
        onIp: (packet) => { if (registered) this.d.host.ip(id, packet) },
        onClosed: (reason, message) => {
          this.current = undefined
          const upMs = this.upAt !== undefined ? this.t.now() - this.upAt : 0
          this.upAt = undefined
          if (registered) { registered = false; this.d.host.closed(id, reason, message, this.t.now()) }
          if (this.st === 'stopped') return
          if (reason === 'auth-failed' && upMs === 0) {
            // Redialling every minute with a wrong password would keep the account locked out on the
            // peer (and fill its failed-login records): slow down until someone fixes the file.
            this.d.log.error('the peer refused the router account credentials: check the link user and passwordFile', { link: l.name, user: l.user, message, retryInSeconds: AUTH_FAILED_RETRY_MS / 1000 })
            this.retry(AUTH_FAILED_RETRY_MS)
            return
          }
          this.d.log.warn('link down', { link: l.name, reason, message, upSeconds: Math.round(upMs / 1000) })
          this.retry()
        },
      })
      this.current = dial
      if ((this.st as LinkState) === 'stopped') dial.close('admin', 'gateway shutting down')
    } catch (e) {
      const msg = (e as Error).message
      // The same error on every retry is logged once at warn, then at debug.
      if (msg !== this.lastError) this.d.log.warn('cannot dial link', { link: l.name, error: msg })
      else this.d.log.debug('cannot dial link', { link: l.name, error: msg })
      this.lastError = msg
      this.retry()
    }
  }
}

// Drives a sans-IO stream core (SSTP now; PPTP control later) over a Node socket: feeds bytes and
// EOF in, drains transmit bytes and events out, and keeps the core's single timer armed (DESIGN.md §2).
import type { Socket } from 'node:net'
import type { Millis } from '../lib/time.js'

export interface StreamCore<E> {
  handleBytes(now: Millis, chunk: Uint8Array): void
  handleEof(now: Millis): void
  handleTimeout(now: Millis): void
  nextTimeout(): Millis | undefined
  pollTransmit(): Uint8Array | undefined
  pollEvent(): E | undefined
}

/** Bytes queued in the socket beyond which outgoing data packets are dropped rather than buffered without bound. */
export const MAX_SOCKET_BACKLOG = 4 * 1024 * 1024

export class StreamDriver<E> {
  private timer: NodeJS.Timeout | undefined
  private timerAt: Millis | undefined
  private closed = false
  private readonly core: StreamCore<E>
  private readonly socket: Socket
  private readonly onEvent: (e: E) => void

  private readonly onFault: (e: unknown) => void

  /**
   * `onFault` receives any exception thrown by the core or by `onEvent` (a bug, or a storage error
   * surfacing in a handler): the driver then destroys this connection only, so one connection can
   * never take the process down.
   */
  constructor(core: StreamCore<E>, socket: Socket, onEvent: (e: E) => void, onFault: (e: unknown) => void) {
    this.core = core
    this.socket = socket
    this.onEvent = onEvent
    this.onFault = onFault
    // Read back-pressure: a peer that sends but never reads must not make us queue replies
    // without bound (DESIGN.md §2, §5). Reading resumes when the send queue drains.
    socket.on('drain', () => { if (this.pausedForBacklog) { this.pausedForBacklog = false; socket.resume() } })
    socket.on('data', (chunk: Buffer) => this.run(() => this.core.handleBytes(Date.now(), chunk)))
    socket.on('end', () => this.eof())
    socket.on('close', () => { this.eof(); this.stop() })
    // Errors (ECONNRESET, TLS alerts) end the stream; 'close' follows and reports EOF to the core.
    socket.on('error', () => {})
  }

  private eofSeen = false
  private pausedForBacklog = false
  private eof(): void {
    if (this.eofSeen) return
    this.eofSeen = true
    this.run(() => this.core.handleEof(Date.now()))
  }

  /** Whether the socket's send queue is short enough to accept more data packets. */
  writable(): boolean { return !this.closed && this.socket.writableLength < MAX_SOCKET_BACKLOG }

  /**
   * Runs `fn` (several inputs, e.g. one TUN batch) with the socket corked, so their bytes leave as
   * one write — for TLS, a few large records instead of one record per packet.
   */
  batch(fn: () => void): void {
    if (this.closed) return
    this.socket.cork()
    try { this.run(fn) } finally { this.socket.uncork() }
  }

  /** Runs one input into the core, then drains it. Call after any direct call into the core too. */
  run(input?: () => void): void {
    if (this.closed) return
    try {
      input?.()
      this.drain()
    } catch (e) {
      this.stop()
      this.socket.destroy()
      this.onFault(e)
    }
  }

  private drain(): void {
    let out: Uint8Array | undefined
    const parts: Uint8Array[] = []
    while ((out = this.core.pollTransmit()) !== undefined) parts.push(out)
    if (parts.length === 1) this.socket.write(parts[0]!)
    else if (parts.length > 1) this.socket.write(Buffer.concat(parts))
    if (!this.pausedForBacklog && this.socket.writableLength > MAX_SOCKET_BACKLOG) {
      this.pausedForBacklog = true
      this.socket.pause()
    }
    let ev: E | undefined
    while ((ev = this.core.pollEvent()) !== undefined) this.onEvent(ev)
    this.arm()
  }

  private arm(): void {
    const at = this.core.nextTimeout()
    if (at === this.timerAt) return
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    this.timerAt = at
    if (at === undefined || this.closed) return
    this.timer = setTimeout(() => { this.timer = undefined; this.timerAt = undefined; this.run(() => this.core.handleTimeout(Date.now())) }, Math.max(0, at - Date.now()))
  }

  /** Flushes what is queued, ends the socket and stops the timer. */
  end(): void {
    if (this.closed) return
    this.drain()
    this.stop()
    this.socket.end()
    // A peer that never reads must not hold the socket open forever.
    setTimeout(() => this.socket.destroy(), 2000).unref()
  }

  private stop(): void {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }
}

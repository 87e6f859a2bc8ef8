// Gateway-wide PPTP Call ID allocation (RFC 2637 §2.7/§2.8 Call ID; §4.1 GRE Key field) for the GRE
// driver: one raw protocol-47 socket serves every control connection, so IDs must not collide.
// GreDriver: that socket, the demux and one timer per call.
import { GreDemux } from '../pptp/gre/demux.js'
import type { GreCall } from '../pptp/gre/call.js'
import type { Millis } from '../lib/time.js'
import { RawIpSocket } from './raw-ip.js'
import { systemRng } from '../crypto/rng.js'
import type { RawIpPacket } from './raw-ip.js'

/**
 * Hands out Call IDs unique across the whole gateway, not just per control connection: two control
 * connections from one address (two clients behind one NAT) share the GreDemux key space
 * (peer address, Call ID), so per-connection counters would collide. Also skips any ID the demux
 * still holds for some peer. 0 is never used (some peers read it as "none"). Matches the shape of
 * PptpPacConnection's `callIds` option.
 */
export class CallIdAllocator {
  private readonly inUse = new Set<number>()
  private next: number
  private readonly demux: GreDemux | undefined

  constructor(demux?: GreDemux, start = 1) {
    this.demux = demux
    this.next = start >= 1 && start <= 0xffff ? start : 1
  }

  /** A free Call ID, or undefined when all 65535 are taken (the PAC then refuses the call). */
  allocate(): number | undefined {
    for (let i = 0; i < 0xffff; i++) {
      const id = this.next
      this.next = id === 0xffff ? 1 : id + 1
      if (this.inUse.has(id) || this.heldByDemux(id)) continue
      this.inUse.add(id)
      return id
    }
    return undefined
  }

  release(callId: number): void { this.inUse.delete(callId) }

  get size(): number { return this.inUse.size }

  private heldByDemux(id: number): boolean {
    if (!this.demux) return false
    for (const c of this.demux.all()) if (c.localCallId === id) return true
    return false
  }
}

/** The part of RawIpSocket the driver uses. */
export type GreSocket = Pick<RawIpSocket, 'send' | 'sendMany' | 'counters' | 'onPackets' | 'onError' | 'unref' | 'close'>

/** What the driver runs for one call: the sans-IO data path (src/pptp/data-call.ts). */
export interface GreEndpoint<E> {
  readonly gre: GreCall
  afterReceive(now: Millis): void
  handleTimeout(now: Millis): void
  nextTimeout(): Millis | undefined
  pollDatagram(): Uint8Array | undefined
  pollEvent(): E | undefined
}

/** One call attached to the driver. */
export interface GreBinding {
  /** Runs `fn` (a direct call into the endpoint), then sends its datagrams, delivers its events and re-arms its timer. */
  run(fn?: () => void): void
  /** Unregisters the call (its Call ID becomes free once the control core releases it too) and stops its timer. */
  remove(): void
  readonly removed: boolean
}

interface Entry<E> {
  readonly peer: string
  readonly endpoint: GreEndpoint<E>
  readonly onEvent: (e: E) => void
  readonly onFault: (e: unknown) => void
  timer: NodeJS.Timeout | undefined
  timerAt: Millis | undefined
  removed: boolean
}

/**
 * The one raw GRE (IP protocol 47) socket of a gateway or client and every call on it (RFC 2637 §4):
 * received packets go through the GreDemux to their call; what the calls send is batched into one
 * sendmmsg per event-loop turn. Each call keeps one timer (ack delay, reorder gaps, PPP timers), armed
 * only when its deadline moves earlier: an early wake-up is harmless, a per-packet re-arm is not.
 * An exception in one call's handling closes that call only (`onFault`).
 */
export class GreDriver {
  readonly demux = new GreDemux()
  readonly callIds: CallIdAllocator
  private readonly socket: GreSocket
  private readonly entries = new Map<GreCall, Entry<unknown>>()
  private readonly outbox: { dest: string; payload: Uint8Array }[] = []
  private flushQueued = false
  private readonly onError: (e: Error) => void
  private readonly aroundReceive: ((fn: () => void) => void) | undefined
  /** Calls that handled packets of the batch being received: their timers are re-armed once, after it. */
  private readonly touched = new Set<Entry<unknown>>()

  /** Drives an open socket; `open` is the normal way in (tests pass a fake socket here). */
  constructor(socket: GreSocket, onError: (e: Error) => void, aroundReceive?: (fn: () => void) => void) {
    this.socket = socket
    this.onError = onError
    this.aroundReceive = aroundReceive
    // A random first Call ID (as the PAC core does alone): a stale GRE packet of an earlier run is unlikely
    // to match a new call, and IDs are not predictable to another client behind the same NAT.
    const r = systemRng.bytes(2)
    this.callIds = new CallIdAllocator(this.demux, ((r[0]! << 8) | r[1]!) || 1)
    socket.onError((e) => this.onError(e))
    socket.onPackets((batch) => this.receive(batch))
  }

  /**
   * Opens the raw socket (bound to `bindAddress` when given: only GRE to that address is read).
   * `aroundReceive` wraps the handling of each received batch (the gateway passes the data plane's
   * batch(), so the batch's packets reach the TUN in one write call). Throws ERR_RAW_OPEN.
   */
  static open(o: { bindAddress?: string; onError: (e: Error) => void; aroundReceive?: (fn: () => void) => void }): GreDriver {
    return new GreDriver(RawIpSocket.open({ protocol: 47, bindAddress: o.bindAddress, recvBufferBytes: 4 * 1024 * 1024 }), o.onError, o.aroundReceive)
  }

  /** Registers a call for GRE from `peer` (dotted IPv4). Throws RangeError if (peer, Call ID) is taken. */
  attach<E>(peer: string, endpoint: GreEndpoint<E>, onEvent: (e: E) => void, onFault: (e: unknown) => void): GreBinding {
    this.demux.add(peer, endpoint.gre)
    const e: Entry<E> = { peer, endpoint, onEvent, onFault, timer: undefined, timerAt: undefined, removed: false }
    this.entries.set(endpoint.gre, e as Entry<unknown>)
    return {
      run: (fn) => this.run(e as Entry<unknown>, fn),
      remove: () => this.remove(e as Entry<unknown>),
      get removed() { return e.removed },
    }
  }

  get callCount(): number { return this.entries.size }

  counters(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const [k, v] of Object.entries(this.demux.counters())) out[`demux.${k}`] = v
    for (const [k, v] of Object.entries(this.socket.counters.snapshot())) out[`socket.${k}`] = v
    return out
  }

  /** Lets the process exit while the socket is open. */
  unref(): void { this.socket.unref() }

  close(): void {
    for (const e of [...this.entries.values()]) this.remove(e)
    this.flush()
    this.socket.close()
  }

  private receive(batch: readonly RawIpPacket[]): void {
    if (this.aroundReceive) this.aroundReceive(() => this.receiveBatch(batch))
    else this.receiveBatch(batch)
  }

  private receiveBatch(batch: readonly RawIpPacket[]): void {
    const now = Date.now()
    const touched = this.touched
    try {
      for (const p of batch) {
        const call = this.demux.handlePacket(now, p.from, p.payload)
        if (!call) continue
        const e = this.entries.get(call)
        if (!e) continue
        // Datagrams and events are drained per packet (event views are valid until the next input);
        // the timer is re-armed once per batch: its deadline only moves when the batch ends.
        this.run(e, () => e.endpoint.afterReceive(now), false)
        touched.add(e)
      }
    } finally {
      for (const e of touched) this.run(e)
      touched.clear()
    }
  }

  private run(e: Entry<unknown>, fn?: () => void, arm = true): void {
    if (e.removed) return
    try {
      fn?.()
      const ep = e.endpoint
      for (let d = ep.pollDatagram(); d !== undefined; d = ep.pollDatagram()) this.outbox.push({ dest: e.peer, payload: d })
      if (this.outbox.length > 0 && !this.flushQueued) { this.flushQueued = true; queueMicrotask(() => this.flush()) }
      for (let ev = ep.pollEvent(); ev !== undefined; ev = e.removed ? undefined : ep.pollEvent()) e.onEvent(ev)
      if (arm && !e.removed) this.arm(e)
    } catch (err) {
      this.remove(e)
      e.onFault(err)
    }
  }

  private arm(e: Entry<unknown>): void {
    const at = e.endpoint.nextTimeout()
    if (at === undefined || (e.timerAt !== undefined && e.timerAt <= at)) return
    if (e.timer) clearTimeout(e.timer)
    e.timerAt = at
    e.timer = setTimeout(() => {
      e.timer = undefined
      e.timerAt = undefined
      this.run(e, () => e.endpoint.handleTimeout(Date.now()))
    }, Math.max(0, at - Date.now()))
  }

  private remove(e: Entry<unknown>): void {
    if (e.removed) return
    e.removed = true
    if (e.timer) clearTimeout(e.timer)
    e.timer = undefined
    this.entries.delete(e.endpoint.gre)
    this.demux.remove(e.peer, e.endpoint.gre.localCallId)
  }

  private flush(): void {
    this.flushQueued = false
    if (this.outbox.length === 0) return
    const items = this.outbox.splice(0)
    try {
      this.socket.sendMany(items)
    } catch {
      // sendmmsg stops at the first failing datagram (ENETUNREACH to one vanished peer, EPERM from an
      // OUTPUT rule): resend one by one so one bad destination costs only its own packets, each
      // counted; the calls notice a dead path by their keepalives.
      let lastError: Error | undefined
      for (const it of items) {
        try { this.socket.send(it.dest, it.payload) } catch (e) {
          const code = ((e as { cause?: { code?: string } }).cause?.code) ?? 'error'
          this.socket.counters.inc(`tx-error:${code}`)
          lastError = e as Error
        }
      }
      if (lastError) this.onError(lastError)
    }
  }
}

// Drives a sans-IO datagram core (IKE endpoint, L2TP tunnels, RADIUS client; DESIGN.md §2) over a UDP
// socket: datagrams and time in, transmits and events out, one timer at the core's deadline.
import type { Endpoint } from '../lib/endpoint.js'
import type { Millis } from '../lib/time.js'
import type { UdpSocket } from './udp.js'

export interface Transmit { readonly to: Endpoint; readonly data: Uint8Array }

/** What the driver needs of a socket: a bound UdpSocket, or a virtual one (L2TP inside ESP, IKE on two ports). */
export type DatagramSocket = Pick<UdpSocket, 'onDatagram' | 'send'>

export interface DatagramCore<E> {
  handleDatagram(now: Millis, data: Uint8Array, from: Endpoint): void
  /** Harmless if called early. */
  handleTimeout(now: Millis): void
  nextTimeout(): Millis | undefined
  pollTransmit(): Transmit | undefined
  pollEvent(): E | undefined
}

/**
 * `onFault` receives any exception from the core or from `onEvent` (a bug: decoders throw only
 * DecodeError inside the core, which counts it): the driver then stops driving this core, so one
 * core's bug never takes the process down with it.
 */
export class DatagramDriver<E> {
  private timer: NodeJS.Timeout | undefined
  private timerAt: Millis | undefined
  private stopped = false
  private readonly core: DatagramCore<E>
  private readonly socket: DatagramSocket
  private readonly onEvent: (e: E) => void
  private readonly onFault: (e: unknown) => void

  constructor(core: DatagramCore<E>, socket: DatagramSocket, onEvent: (e: E) => void, onFault: (e: unknown) => void) {
    this.core = core
    this.socket = socket
    this.onEvent = onEvent
    this.onFault = onFault
    socket.onDatagram((data, from) => this.run(() => this.core.handleDatagram(Date.now(), data, from)))
  }

  /** Runs one input into the core (or just drains it), then sends, delivers events and re-arms the timer. */
  run(input?: () => void): void {
    if (this.stopped) return
    try {
      input?.()
      for (let t = this.core.pollTransmit(); t !== undefined; t = this.core.pollTransmit()) this.socket.send(t.to, t.data)
      for (let e = this.core.pollEvent(); e !== undefined && !this.stopped; e = this.core.pollEvent()) this.onEvent(e)
      this.arm()
    } catch (err) {
      this.stop()
      this.onFault(err)
    }
  }

  private arm(): void {
    if (this.stopped) return
    const at = this.core.nextTimeout()
    if (at === this.timerAt) return
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    this.timerAt = at
    if (at === undefined) return
    this.timer = setTimeout(() => { this.timer = undefined; this.timerAt = undefined; this.run(() => this.core.handleTimeout(Date.now())) }, Math.max(0, at - Date.now()))
  }

  /** Stops the timer and input; the socket stays open (its owner closes it). */
  stop(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }
}

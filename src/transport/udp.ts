// UDP adapter for datagram carriers (IKE on 500/4500, NAT-T ESP in UDP, L2TP on 1701, RADIUS): binds,
// delivers datagrams with their source, sends with errors counted rather than thrown. No protocol here.
import dgram from 'node:dgram'
import type { Endpoint } from '../lib/endpoint.js'
import { Counters } from '../lib/counters.js'
import { listenError } from './tcp.js'

export interface UdpBindOptions {
  readonly address: string
  /** 0 picks a free port (clients, tests). */
  readonly port: number
  /** What listens, for error messages ("IKE", "L2TP"). */
  readonly what: string
  /** Socket buffers; bursts beyond them are dropped by the kernel. Default the kernel's. */
  readonly bufferBytes?: number
}

/**
 * One bound UDP socket. Counters: 'rx-datagrams', 'tx-datagrams', 'tx-error:<code>' (EHOSTUNREACH,
 * ENETUNREACH, EPERM from a firewall...): UDP is lossy, so a failed send is counted and dropped, never
 * thrown into a protocol core, whose own retransmission or liveness check decides what it means.
 */
export class UdpSocket {
  readonly counters = new Counters()
  private readonly sock: dgram.Socket
  private cb: ((data: Uint8Array, from: Endpoint) => void) | undefined
  private closed = false

  private constructor(sock: dgram.Socket) {
    this.sock = sock
    sock.on('message', (msg, rinfo) => {
      this.counters.inc('rx-datagrams')
      this.cb?.(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), { address: rinfo.address, port: rinfo.port })
    })
    // Asynchronous errors (ICMP unreachable reported on a later call): counted; the socket stays usable.
    sock.on('error', (e: NodeJS.ErrnoException) => this.counters.inc(`error:${e.code ?? 'unknown'}`))
  }

  /** Binds; rejects with VpnError ERR_LISTEN naming the address and the likely fix. */
  static bind(o: UdpBindOptions): Promise<UdpSocket> {
    const type = o.address.includes(':') ? 'udp6' : 'udp4'
    const sock = dgram.createSocket({ type, recvBufferSize: o.bufferBytes, sendBufferSize: o.bufferBytes })
    return new Promise((resolve, reject) => {
      const fail = (e: NodeJS.ErrnoException): void => { sock.close(); reject(listenError(e, o.what, o.address, o.port)) }
      sock.once('error', fail)
      sock.bind(o.port, o.address, () => { sock.off('error', fail); resolve(new UdpSocket(sock)) })
    })
  }

  get local(): Endpoint { const a = this.sock.address(); return { address: a.address, port: a.port } }

  /** Datagrams as views valid for the duration of the callback (copy to keep). Replaces an earlier callback. */
  onDatagram(cb: (data: Uint8Array, from: Endpoint) => void): void { this.cb = cb }

  send(to: Endpoint, data: Uint8Array): void {
    if (this.closed) { this.counters.inc('tx-closed'); return }
    this.sock.send(data, to.port, to.address, (err) => {
      if (err) this.counters.inc(`tx-error:${(err as NodeJS.ErrnoException).code ?? 'unknown'}`)
    })
    this.counters.inc('tx-datagrams')
  }

  /** Lets the process exit while the socket is open. */
  unref(): void { this.sock.unref() }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    this.cb = undefined
    return new Promise((r) => this.sock.close(() => r()))
  }
}

/**
 * The local IPv4 address the kernel would use to reach `address` (a connected UDP socket's name; nothing
 * is sent): what a client puts into NAT-D (RFC 3947 §3.2) and its IKE ID.
 */
export function localAddressTowards(address: string, port: number): Promise<string> {
  const sock = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4')
  return new Promise((resolve, reject) => {
    sock.once('error', (e) => { sock.close(); reject(e) })
    sock.connect(port, address, () => {
      const a = sock.address().address
      sock.close()
      resolve(a)
    })
  })
}

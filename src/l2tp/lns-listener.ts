// Demultiplexes UDP 1701 datagrams to LNS tunnels (RFC 2661 §3.1 Tunnel ID, §5.3 Tunnel ID 0 until
// assigned): allocates our Tunnel IDs, routes SCCRQ retransmissions by (peer, Assigned Tunnel ID), bounds
// half-open tunnels per address, forgets tunnels after their §5.7 linger. Sans-IO.
import { Counters } from '../lib/counters.js'
import { DecodeError } from '../lib/errors.js'
import type { Endpoint } from '../lib/endpoint.js'
import type { Millis } from '../lib/time.js'
import { decodeL2tp } from './header.js'
import { decodeControlBody } from './avp/codec.js'
import { MessageType } from './avp/constants.js'
import { L2tpLnsTunnel } from './lns-tunnel.js'
import type { LnsTunnelEvent, LnsTunnelOptions } from './tunnel-types.js'

export interface LnsListenerOptions extends Omit<LnsTunnelOptions, 'tunnelId'> {
  /** Tunnels at once (default 1024); SCCRQs beyond are dropped and counted. */
  readonly maxTunnels?: number
  /** Tunnels from one address not yet established (default 8): bounds half-open state per source. */
  readonly maxHalfOpenPerAddress?: number
  /** Admission of a new tunnel from `from` (RFC 3193: only inside an IPsec SA for that peer). Default: all. */
  readonly accept?: (from: Endpoint) => boolean
  /**
   * Where PPP frames of established sessions go, synchronously inside handleDatagram (`frame` is a
   * view into the datagram: copy to keep). Without it they queue for pollFrame. A driver that only
   * drains transmits and events (transport/datagram-driver.ts) needs this.
   */
  readonly onFrame?: (tunnelId: number, sessionId: number, frame: Uint8Array) => void
}

export interface ListenerTransmit { readonly to: Endpoint; readonly data: Uint8Array }
export interface ListenerEvent { readonly tunnelId: number; readonly peer: Endpoint; readonly event: LnsTunnelEvent }
export interface ListenerFrame { readonly tunnelId: number; readonly sessionId: number; readonly frame: Uint8Array }

interface Entry { readonly tunnel: L2tpLnsTunnel; readonly peer: Endpoint; readonly peerKey: string }

const peerKey = (from: Endpoint, peerTunnelId: number): string => `${from.address}|${from.port}|${peerTunnelId}`

export class L2tpLnsListener {
  readonly counters = new Counters()
  private readonly opt: LnsListenerOptions
  private readonly tunnels = new Map<number, Entry>()
  private readonly byPeer = new Map<string, number>()
  private readonly tx: ListenerTransmit[] = []
  private readonly events: ListenerEvent[] = []
  private readonly frames: ListenerFrame[] = []

  constructor(opts: LnsListenerOptions) { this.opt = opts }

  get size(): number { return this.tunnels.size }
  tunnel(tunnelId: number): L2tpLnsTunnel | undefined { return this.tunnels.get(tunnelId)?.tunnel }
  /** Tunnel IDs of the tunnels opened from `peer` (its IPsec SA went away, or shutdown). */
  tunnelsOf(peer: Endpoint): number[] {
    const ids: number[] = []
    for (const [id, e] of this.tunnels) if (e.peer.address === peer.address && e.peer.port === peer.port) ids.push(id)
    return ids
  }
  /** Every tunnel ID. */
  tunnelIds(): number[] { return [...this.tunnels.keys()] }

  handleDatagram(now: Millis, data: Uint8Array, from: Endpoint): void {
    let p
    try { p = decodeL2tp(data) } catch (e) { this.drop(e); return }
    let id = p.header.tunnelId
    if (id === 0) {
      // Tunnel ID 0: the sender does not know ours yet (§5.3). Only control messages naming the
      // sender's own Assigned Tunnel ID can be placed: SCCRQ (and its retransmissions), an early StopCCN.
      if (p.header.type !== 'control' || p.payload.length === 0) { this.counters.inc('rx-tunnel0-not-control'); return }
      let m
      try { m = decodeControlBody(p.payload, { secret: this.opt.secret }) } catch (e) { this.drop(e); return }
      const peerTunnelId = m.fields.assignedTunnelId
      if (!peerTunnelId) { this.counters.inc('rx-tunnel0-no-assigned-id'); return }
      const known = this.byPeer.get(peerKey(from, peerTunnelId))
      // A fresh SCCRQ reusing the Assigned Tunnel ID of a tunnel that is only lingering (§5.7) opens a
      // new tunnel: a client that reconnects at once must not wait out the old one.
      const reuse = known !== undefined && m.messageType === MessageType.SCCRQ && this.tunnels.get(known)?.tunnel.closing === true
      if (known !== undefined && !reuse) id = known
      else if (m.messageType !== MessageType.SCCRQ) { this.counters.inc('rx-tunnel0-unknown'); return }
      else {
        const created = this.create(now, from, peerTunnelId)
        if (created === undefined) return
        id = created
      }
    }
    const e = this.tunnels.get(id)
    if (!e) { this.counters.inc('rx-unknown-tunnel'); return }
    // A tunnel belongs to the address and port that opened it; anything else is spoofed or stray.
    if (e.peer.address !== from.address || e.peer.port !== from.port) { this.counters.inc('rx-wrong-peer'); return }
    e.tunnel.handleDatagram(now, data)
    this.drain(id, e)
  }

  handleTimeout(now: Millis): void {
    for (const [id, e] of this.tunnels) {
      const t = e.tunnel.nextTimeout()
      if (t !== undefined && t <= now) { e.tunnel.handleTimeout(now); this.drain(id, e) }
    }
  }

  /** The earliest deadline over all tunnels (linear in the number of tunnels). */
  nextTimeout(): Millis | undefined {
    let t: Millis | undefined
    for (const e of this.tunnels.values()) { const n = e.tunnel.nextTimeout(); if (n !== undefined && (t === undefined || n < t)) t = n }
    return t
  }

  pollTransmit(): ListenerTransmit | undefined { return this.tx.shift() }
  pollEvent(): ListenerEvent | undefined { return this.events.shift() }
  pollFrame(): ListenerFrame | undefined { return this.frames.shift() }

  /** A PPP frame for (tunnel, our session) as a datagram and its destination, or undefined. */
  encodeFrame(tunnelId: number, sessionId: number, frame: Uint8Array): ListenerTransmit | undefined {
    const e = this.tunnels.get(tunnelId)
    const data = e?.tunnel.encodeFrame(sessionId, frame)
    return e && data ? { to: e.peer, data } : undefined
  }

  closeSession(now: Millis, tunnelId: number, sessionId: number, reason: string): void {
    const e = this.tunnels.get(tunnelId)
    if (e) { e.tunnel.closeSession(now, sessionId, reason); this.drain(tunnelId, e) }
  }

  closeTunnel(now: Millis, tunnelId: number, reason: string): void {
    const e = this.tunnels.get(tunnelId)
    if (e) { e.tunnel.close(now, reason); this.drain(tunnelId, e) }
  }

  private create(now: Millis, from: Endpoint, peerTunnelId: number): number | undefined {
    if (this.opt.accept && !this.opt.accept(from)) { this.counters.inc('sccrq-refused-peer'); return undefined }
    if (this.tunnels.size >= (this.opt.maxTunnels ?? 1024)) { this.counters.inc('sccrq-too-many-tunnels'); return undefined }
    let halfOpen = 0
    for (const e of this.tunnels.values()) if (e.peer.address === from.address && !e.tunnel.established && !e.tunnel.closing) halfOpen++
    if (halfOpen >= (this.opt.maxHalfOpenPerAddress ?? 8)) { this.counters.inc('sccrq-half-open-limit'); return undefined }
    const id = this.allocate()
    if (id === undefined) { this.counters.inc('sccrq-no-tunnel-id'); return undefined }
    const key = peerKey(from, peerTunnelId)
    const tunnel = new L2tpLnsTunnel(now, { ...this.opt, tunnelId: id })
    this.tunnels.set(id, { tunnel, peer: { address: from.address, port: from.port }, peerKey: key })
    this.byPeer.set(key, id)
    return id
  }

  private allocate(): number | undefined {
    for (let i = 0; i < 64; i++) {
      const b = this.opt.rng.bytes(2)
      const id = (b[0]! << 8) | b[1]!
      // §5.3: 0 "MUST NOT be used as an ... Assigned Tunnel ID".
      if (id !== 0 && !this.tunnels.has(id)) return id
    }
    return undefined
  }

  private drain(id: number, e: Entry): void {
    for (let d = e.tunnel.pollTransmit(); d; d = e.tunnel.pollTransmit()) this.tx.push({ to: e.peer, data: d })
    for (let ev = e.tunnel.pollEvent(); ev; ev = e.tunnel.pollEvent()) this.events.push({ tunnelId: id, peer: e.peer, event: ev })
    const onFrame = this.opt.onFrame
    for (let f = e.tunnel.pollFrame(); f; f = e.tunnel.pollFrame()) {
      if (onFrame) onFrame(id, f.sessionId, f.frame)
      else this.frames.push({ tunnelId: id, sessionId: f.sessionId, frame: f.frame })
    }
    if (e.tunnel.done) {
      this.tunnels.delete(id)
      if (this.byPeer.get(e.peerKey) === id) this.byPeer.delete(e.peerKey)
    }
  }

  private drop(e: unknown): void {
    if (!(e instanceof DecodeError)) throw e
    this.counters.inc(`malformed:${e.field}`)
  }
}

// IPsec site-to-site tunnels between gateways (issue 4 §6): IKEv1 tunnel-mode child SAs (RFC 2409 §5.5,
// RFC 4301 §4.1) for each configured local/remote subnet pair, initiated (and re-established with back-off)
// by either side; TUN packets to the remote subnets are sent as ESP tunnel mode (RFC 4303 §3.1.2, Next
// Header 4), decrypted inner packets are checked against the child's selectors (RFC 4301 §5.2) and routed.
import type { IpsecTunnelConfig } from '../config/schema.js'
import type { Endpoint } from '../lib/endpoint.js'
import type { Logger } from '../lib/log.js'
import type { Counters } from '../lib/counters.js'
import type { IpsecChild } from '../transport/ike-driver.js'
import type { ChildSaRequest, IkeV1Event } from '../ike/v1/endpoint.js'
import type { TrafficSelector } from '../ike/v1/tasks/quick-mode.js'
import { EspNextHeader } from '../esp/packet.js'
import { tunnelInnerIpv4 } from '../esp/tunnel.js'
import { parsePrefix } from '../ip/prefix.js'
import type { CarrierSession } from './sessions.js'
import type { LinkTimers } from './links.js'
import { peerIdMatches, selectorRange, subnetSelector, tunnelAcceptsSelectors, type Ipv4Range } from './ipsec-tunnels-policy.js'

/** What tunnels need from the IKE driver (IkeDriver in the gateway, a fake in tests). */
export interface TunnelIke {
  /** Main mode then quick mode for `child`; returns the ISAKMP SA's name. */
  connect(peer: Endpoint, child: ChildSaRequest): string
  /** Another quick mode on an established ISAKMP SA; false when it is not (any more). */
  createChild(sa: string, child: ChildSaRequest): boolean
  deleteIkeSa(sa: string, reason: string): void
  send(c: IpsecChild, payload: Uint8Array, nextHeader: number): boolean
}

/** The session registry's side (as for links): a tunnel with a child up is a session carrying its remote subnets. */
export interface TunnelHost {
  linkUp(carrier: CarrierSession, info: { user: string; peerAddress: string; routes: readonly string[]; kernelRoutes: boolean }, now: number): string | undefined
  ip(id: string, packet: Uint8Array): void
  closed(id: string, reason: string, message: string, now: number): void
}

export interface IpsecTunnelsDeps {
  readonly ike: TunnelIke
  readonly host: TunnelHost
  readonly log: Logger
  /** Drops and events, as `ipsec-tunnel.*` (and per tunnel `ipsec-tunnel.NAME.*`). */
  readonly counters: Counters
  /** One back-off per tunnel (src/lib/backoff.ts), as LinkDialer uses it. */
  readonly backoff: () => { up(now: number): void; failed(now: number): number; readonly attempts: number }
  readonly timers?: LinkTimers
}

/** How long an initiation may stay unanswered before the next attempt (main mode's own retransmissions give up later). */
export const TUNNEL_ATTEMPT_TIMEOUT_MS = 30_000

interface Child { readonly c: IpsecChild; readonly local: Ipv4Range; readonly remote: Ipv4Range }
interface Tunnel {
  readonly cfg: IpsecTunnelConfig
  readonly pairs: readonly { readonly local: TrafficSelector; readonly remote: TrafficSelector; readonly text: string }[]
  readonly children: Child[]
  /** Established ISAKMP SAs with this peer (either role). */
  readonly ikeSas: Set<string>
  /** The ISAKMP SA we started and that is not up yet, with when. */
  dialing: { sa: string; at: number } | undefined
  session: string | undefined
  timer: unknown
  /** A back-off retry is armed: further failures until it runs count once (one drop ends a child and its ISAKMP SA). */
  retrying: boolean
  serial: number
  readonly backoff: ReturnType<IpsecTunnelsDeps['backoff']>
}

const REAL_TIMERS: LinkTimers = { set: (fn, ms) => setTimeout(fn, ms), clear: (h) => clearTimeout(h as NodeJS.Timeout), now: () => Date.now() }
const u32 = (p: Uint8Array, at: number): number => ((p[at]! << 24) >>> 0) + ((p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!)
const inRange = (r: Ipv4Range, a: number): boolean => a >= r.first && a <= r.last

export class IpsecTunnels {
  private readonly d: IpsecTunnelsDeps
  private readonly t: LinkTimers
  private readonly byPeer = new Map<string, Tunnel>()
  private readonly bySa = new Map<string, Tunnel>()
  private readonly byChild = new Map<number, Tunnel>()
  private stopped = false

  constructor(tunnels: readonly IpsecTunnelConfig[], deps: IpsecTunnelsDeps) {
    this.d = deps
    this.t = deps.timers ?? REAL_TIMERS
    for (const cfg of tunnels) {
      const pairs = cfg.localSubnets.flatMap((l) => cfg.remoteSubnets.map((r) => ({ local: subnetSelector(l), remote: subnetSelector(r), text: `${l} <=> ${r}` })))
      this.byPeer.set(cfg.peer, { cfg, pairs, children: [], ikeSas: new Set(), dialing: undefined, session: undefined, timer: undefined, retrying: false, serial: 0, backoff: deps.backoff() })
    }
  }

  /** The tunnel whose peer has this address (PSK and quick mode policy are per peer address). */
  tunnelOf(address: string): IpsecTunnelConfig | undefined { return this.byPeer.get(address)?.cfg }

  /** Responder policy for a tunnel peer's quick mode (tunnel mode, selectors inside the configured subnets). */
  acceptSelectors(address: string, local: TrafficSelector, remote: TrafficSelector): boolean {
    const tun = this.byPeer.get(address)
    const ok = tun !== undefined && tunnelAcceptsSelectors(tun.cfg, local, remote)
    if (tun && !ok) { this.count(tun, 'refused:selectors'); this.d.log.warn('tunnel peer proposed traffic selectors outside the configured subnets; refused', { tunnel: tun.cfg.name }) }
    return ok
  }

  /** Starts the tunnels that initiate. */
  start(): void { for (const tun of this.byPeer.values()) if (tun.cfg.initiate) this.kick(tun, 0) }

  /** No more attempts; the sessions end (the driver deletes the SAs when it closes). */
  stop(): void {
    this.stopped = true
    for (const tun of this.byPeer.values()) {
      if (tun.timer !== undefined) this.t.clear(tun.timer)
      tun.timer = undefined
      this.endSession(tun, 'admin', 'gateway shutting down')
    }
  }

  /** A child SA came up; true when it belongs to a tunnel (tunnel mode with a tunnel peer). */
  childUp(c: IpsecChild): boolean {
    const tun = this.byPeer.get(c.handle.peer.address) ?? this.bySa.get(c.ikeSa)
    if (!tun || c.mode !== 'tunnel') return false
    const local = c.selectors ? selectorRange(c.selectors.local) : undefined
    const remote = c.selectors ? selectorRange(c.selectors.remote) : undefined
    if (!local || !remote) {
      // Without IDci/IDcr a tunnel-mode SA covers the two gateways only (RFC 2409 §5.5), not the subnets.
      this.count(tun, 'drop:child-without-subnets')
      this.d.log.warn('tunnel child SA without subnet selectors: not used', { tunnel: tun.cfg.name, sa: c.ikeSa })
      return true
    }
    tun.children.push({ c, local, remote })
    this.byChild.set(c.handle.inboundSpi, tun)
    this.d.log.info('tunnel child SA up', { tunnel: tun.cfg.name, spi: hex8(c.handle.inboundSpi), suite: c.suite, nat: c.udpEncapsulated, children: tun.children.length })
    if (tun.session === undefined) this.startSession(tun)
    if (this.missing(tun).length === 0) {
      tun.backoff.up(this.t.now())
      const d = tun.dialing
      if (d && d.sa !== c.ikeSa) {
        // Both sides initiated and the peer's SA won: drop our half-open main mode rather than finish a second
        // ISAKMP SA whose INITIAL-CONTACT (RFC 2407 §4.6.3.3) would make the peer delete the one carrying traffic.
        tun.dialing = undefined
        this.bySa.delete(d.sa)
        this.d.ike.deleteIkeSa(d.sa, 'the peer brought the tunnel up first')
      }
    }
    return true
  }

  /** A child SA went down (deleted, expired, rekeyed, peer dead). */
  childDown(c: IpsecChild, reason: string): boolean {
    const tun = this.byChild.get(c.handle.inboundSpi)
    if (!tun) return false
    this.byChild.delete(c.handle.inboundSpi)
    const i = tun.children.findIndex((x) => x.c === c)
    if (i >= 0) tun.children.splice(i, 1)
    if (reason !== 'rekeyed') this.d.log.info('tunnel child SA down', { tunnel: tun.cfg.name, spi: hex8(c.handle.inboundSpi), reason })
    if (tun.children.length === 0) this.endSession(tun, reason === 'deleted by the peer' ? 'peer-closed' : 'ipsec-down', reason)
    if (reason !== 'rekeyed' && tun.cfg.initiate && this.missing(tun).length > 0) this.retry(tun)
    return true
  }

  /** Every IKE event of the gateway's endpoint (after the driver handled it). */
  ikeEvent(e: IkeV1Event): void {
    switch (e.type) {
      case 'ikeUp': {
        const tun = this.byPeer.get(e.peer.address) ?? this.bySa.get(e.sa)
        if (!tun) return
        if (tun.cfg.peerId !== undefined && !peerIdMatches(tun.cfg.peerId, e.peerId, e.peerCertificate?.subject)) {
          this.count(tun, 'refused:peer-id')
          this.d.log.error('tunnel peer authenticated with another ID than peerId; deleting its IKE SA', { tunnel: tun.cfg.name, want: tun.cfg.peerId, got: e.peerCertificate?.subject ?? `ID type ${e.peerId.idType}` })
          this.d.ike.deleteIkeSa(e.sa, 'peer ID does not match the tunnel configuration')
          return
        }
        tun.ikeSas.add(e.sa)
        this.bySa.set(e.sa, tun)
        this.d.log.info('tunnel IKE SA up', { tunnel: tun.cfg.name, peer: `${e.peer.address}:${e.peer.port}`, nat: e.natT?.peerBehindNat || e.natT?.localBehindNat || false })
        if (tun.dialing?.sa === e.sa) {
          tun.dialing = undefined
          // Main mode started quick mode for the first missing pair; the others follow on the same ISAKMP SA.
          for (const p of this.missing(tun).slice(1)) this.d.ike.createChild(e.sa, this.request(p))
        }
        return
      }
      case 'childSaFailed': {
        const tun = this.bySa.get(e.sa)
        if (!tun) return
        this.count(tun, 'child-failed')
        this.d.log.warn('tunnel quick mode failed', { tunnel: tun.cfg.name, reason: e.reason })
        if (tun.cfg.initiate) this.retry(tun)
        return
      }
      case 'closed': {
        const tun = this.bySa.get(e.sa) ?? (this.byPeer.get(e.peer.address)?.dialing?.sa === e.sa ? this.byPeer.get(e.peer.address) : undefined)
        if (!tun) return
        this.bySa.delete(e.sa)
        tun.ikeSas.delete(e.sa)
        if (tun.dialing?.sa === e.sa) {
          tun.dialing = undefined
          this.count(tun, 'connect-failed')
          this.d.log.warn('tunnel IKE SA failed', { tunnel: tun.cfg.name, reason: e.reason })
        }
        if (tun.cfg.initiate && this.missing(tun).length > 0) this.retry(tun)
        return
      }
      default:
    }
  }

  /** A decrypted payload of a tunnel child: an inner IPv4 packet inside the child's selectors goes to the session. */
  payload(c: IpsecChild, nextHeader: number, payload: Uint8Array): boolean {
    const tun = this.byChild.get(c.handle.inboundSpi)
    if (!tun) return false
    const inner = tunnelInnerIpv4(nextHeader, payload)
    if (typeof inner === 'string') { this.count(tun, `drop:${inner}`); return true }
    const ch = tun.children.find((x) => x.c === c)
    // RFC 4301 §5.2: "... check that the packet ... matches the selectors of the SA": source in the peer's
    // subnet, destination in ours; anything else was not agreed and is dropped.
    if (!ch || !inRange(ch.remote, u32(inner, 12)) || !inRange(ch.local, u32(inner, 16))) { this.count(tun, 'drop:outside-selectors'); return true }
    if (tun.session === undefined) { this.count(tun, 'drop:no-session'); return true }
    this.d.host.ip(tun.session, inner)
    return true
  }

  /** Live state for logs and status. */
  describe(): { name: string; peer: string; children: number; session: string | undefined }[] {
    return [...this.byPeer.values()].map((t) => ({ name: t.cfg.name, peer: t.cfg.peer, children: t.children.length, session: t.session }))
  }

  /** Outbound: the newest child whose selectors cover source and destination (the TUN routed the packet here by destination). */
  private send(tun: Tunnel, packet: Uint8Array): void {
    if (packet.length < 20) { this.count(tun, 'drop:short'); return }
    const src = u32(packet, 12), dst = u32(packet, 16)
    for (let i = tun.children.length - 1; i >= 0; i--) {
      const ch = tun.children[i]!
      if (inRange(ch.remote, dst) && inRange(ch.local, src)) {
        if (!this.d.ike.send(ch.c, packet, EspNextHeader.IPv4)) this.count(tun, 'drop:esp-send')
        return
      }
    }
    // E.g. the gateway's own address (not in a local subnet) or a pair whose child is being re-established.
    this.count(tun, 'drop:no-child-for-selectors')
  }

  private startSession(tun: Tunnel): void {
    const id = `tunnel-${tun.cfg.name}-${++tun.serial}`
    const carrier: CarrierSession = {
      id, protocol: 'ipsec-tunnel', peer: tun.cfg.peer,
      sendIp: (p) => this.send(tun, p),
      close: (reason, message) => {
        // The session is ended from outside (`disconnect`): delete the SAs; an initiating side re-establishes.
        if (tun.session !== id) return
        this.endSession(tun, reason, message)
        for (const sa of [...tun.ikeSas]) this.d.ike.deleteIkeSa(sa, message)
      },
    }
    // The data plane keys a session by an address: the first remote subnet's network address stands for the
    // tunnel (it is inside the tunnel's own routes, which no other session may hold).
    const refused = this.d.host.linkUp(carrier, { user: `tunnel ${tun.cfg.name}`, peerAddress: firstAddress(tun.cfg.remoteSubnets[0]!), routes: tun.cfg.remoteSubnets, kernelRoutes: false }, this.t.now())
    if (refused) {
      this.count(tun, 'refused:routes')
      this.d.log.error('tunnel up but its subnets cannot be routed', { tunnel: tun.cfg.name, error: refused })
      return
    }
    tun.session = id
    this.d.log.info('tunnel up', { tunnel: tun.cfg.name, peer: tun.cfg.peer, local: tun.cfg.localSubnets.join(','), remote: tun.cfg.remoteSubnets.join(',') })
  }

  private endSession(tun: Tunnel, reason: string, message: string): void {
    const id = tun.session
    if (id === undefined) return
    tun.session = undefined
    this.d.host.closed(id, reason, message, this.t.now())
    this.d.log.warn('tunnel down', { tunnel: tun.cfg.name, reason, message })
  }

  private missing(tun: Tunnel): Tunnel['pairs'][number][] {
    return tun.pairs.filter((p) => {
      const l = selectorRange(p.local)!, r = selectorRange(p.remote)!
      return !tun.children.some((ch) => ch.local.first <= l.first && ch.local.last >= l.last && ch.remote.first <= r.first && ch.remote.last >= r.last)
    })
  }

  private request(p: Tunnel['pairs'][number]): ChildSaRequest { return { mode: 'tunnel', selectors: { local: p.local, remote: p.remote } } }

  private retry(tun: Tunnel): void {
    if (tun.retrying) return
    tun.retrying = true
    this.kick(tun, tun.backoff.failed(this.t.now()))
  }

  private kick(tun: Tunnel, ms: number): void {
    if (this.stopped) return
    if (tun.timer !== undefined) this.t.clear(tun.timer)
    if (ms > 0) this.d.log.info('tunnel attempt scheduled', { tunnel: tun.cfg.name, inSeconds: +(ms / 1000).toFixed(1), attempts: tun.backoff.attempts })
    tun.timer = this.t.set(() => { tun.timer = undefined; this.attempt(tun) }, ms)
  }

  /** Brings every missing pair up: quick modes on an ISAKMP SA we have with the peer, else a new main mode. */
  private attempt(tun: Tunnel): void {
    tun.retrying = false
    if (this.stopped) return
    const missing = this.missing(tun)
    if (missing.length === 0) return
    const now = this.t.now()
    if (tun.dialing && now - tun.dialing.at < TUNNEL_ATTEMPT_TIMEOUT_MS) { this.kick(tun, TUNNEL_ATTEMPT_TIMEOUT_MS - (now - tun.dialing.at)); return }
    if (tun.dialing) { this.d.ike.deleteIkeSa(tun.dialing.sa, 'no answer'); tun.dialing = undefined }
    const sa = [...tun.ikeSas].pop()
    if (sa !== undefined && missing.every((p) => this.d.ike.createChild(sa, this.request(p)))) {
      this.d.log.info('tunnel quick modes started', { tunnel: tun.cfg.name, pairs: missing.map((p) => p.text).join('; ') })
    } else {
      if (sa !== undefined) tun.ikeSas.delete(sa)
      const name = this.d.ike.connect({ address: tun.cfg.peer, port: 500 }, this.request(missing[0]!))
      tun.dialing = { sa: name, at: now }
      this.bySa.set(name, tun)
      this.d.log.info('tunnel initiating', { tunnel: tun.cfg.name, peer: tun.cfg.peer, auth: tun.cfg.auth, pairs: missing.map((p) => p.text).join('; ') })
    }
    // Checked again later: a quick mode that got no answer, or a peer that never answers main mode.
    this.kick(tun, TUNNEL_ATTEMPT_TIMEOUT_MS)
  }

  private count(tun: Tunnel, what: string): void {
    this.d.counters.inc(`ipsec-tunnel.${what}`)
    this.d.counters.inc(`ipsec-tunnel.${tun.cfg.name}.${what}`)
  }
}

function firstAddress(cidr: string): string { const p = parsePrefix(cidr); return [p.network >>> 24, (p.network >>> 16) & 0xff, (p.network >>> 8) & 0xff, p.network & 0xff].join('.') }
const hex8 = (n: number): string => n.toString(16).padStart(8, '0')

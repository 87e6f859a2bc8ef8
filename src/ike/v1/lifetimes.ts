// IKEv1 lifetimes, rekeying and dead peer detection for IkeV1Manager: child SA lifetimes (RFC 2407 §4.5,
// RESPONDER-LIFETIME §4.6.3.1), quick-mode rekey with an overlap, ISAKMP SA lifetime and re-establishment,
// child SAs that outlive their ISAKMP SA (RFC 2408 §3.15 deletes each SA on its own; [MS-IKEE] §3.8.4.1), DPD (RFC 3706).
import type { Millis } from '../../lib/time.js'
import type { Endpoint } from '../../lib/endpoint.js'
import type { Rng } from '../../crypto/rng.js'
import { randomU32 } from '../../crypto/rng.js'
import { bytesEqual } from '../../lib/bytes.js'
import { NotifyType } from './constants.js'
import { hex } from './ike-entry.js'
import type { IkeV1Entry } from './ike-entry.js'
import type { IkeIdentity } from './ike-sa.js'
import { newMessageId, sealInformational, sendDelete } from './informational.js'
import type { InformationalOutcome } from './informational.js'
import type { IsakmpPayload } from './message/payloads.js'
import { DEFAULT_CHILD_LIFETIME_SECONDS } from './tasks/quick-mode.js'
import type { ChildSaParams } from './tasks/quick-mode.js'
import { DPD_DEAD_REASON, dpdDeadline, dpdNotify, dpdStep, isDpdNotify, nextProbe, receiveDpd } from './tasks/dpd.js'
import type { DpdOptions } from './tasks/dpd.js'
import { VID_DPD } from './vendor-ids.js'
import type { InboundV1 } from './tasks/types.js'
import type { ChildSaRequest, ConnectOptions } from './endpoint.js'
import type { IkeV1Manager } from './task-manager.js'

export interface LifecycleOptions {
  readonly rng: Rng
  readonly retransmit: { readonly firstMs: number; readonly factor: number }
  /** RFC 3706 probing; false: never probe (R-U-THERE from the peer is still answered). */
  readonly dpd: DpdOptions | false
  /** Upper bound on an ISAKMP SA's lifetime (the transform's, else 8 h). */
  readonly ikeLifetimeSeconds: number
  /** Rekey at lifetime minus this margin, less up to `fuzz` of it at random (strongSwan margintime/rekeyfuzz). */
  readonly marginMs: number
  readonly fuzz: number
  /** How long the old child stays after its replacement is up (packets in flight on it are still accepted). */
  readonly overlapMs: number
}

/** One child SA as the lifecycle sees it; `owner` is undefined while no ISAKMP SA holds it (an orphan). */
export interface ChildLife {
  readonly inSpi: number
  readonly outSpi: number
  owner: IkeV1Entry | undefined
  /** The name of the ISAKMP SA that holds (or last held) it: events carry it. */
  saName: string
  /** peerKey()/address of the ISAKMP SA that holds it (refreshed on adoption: the peer may have moved). */
  peerKey: string
  peerAddress: string
  readonly peerId: IkeIdentity
  /** Where a new main mode goes when no ISAKMP SA holds it (only when we initiated the last one that did). */
  origin: Endpoint | undefined
  /** How phase 1 ran towards `origin` (aggressive mode, our ID). */
  phase1: ConnectOptions | undefined
  /** We started its quick mode: we rekey it before it expires. */
  readonly ours: boolean
  readonly request: ChildSaRequest
  readonly hardAt: Millis
  softAt: Millis | undefined
  rekeyMid: number | undefined
  replacedBy: number | undefined
  deleteAt: Millis | undefined
  lastInbound: Millis
}

const RETRY_MS = 30_000
const DEFAULT_IKE_LIFETIME_SECONDS = 28800

/** Peer identity + where it talks from: an ISAKMP SA with the same key may take over another's children. */
function peerKey(e: IkeV1Entry): string {
  const id = e.sa.peerId
  return `${id ? `${id.idType}:${hex(id.data)}` : '-'}@${e.sa.peer.address}:${e.sa.peer.port}`
}

function sameRequest(a: ChildSaRequest, b: ChildSaRequest): boolean {
  if (a.mode !== b.mode) return false
  const x = a.selectors, y = b.selectors
  if (!x || !y) return x === y
  const eq = (s: typeof x.local, t: typeof x.local) => s.idType === t.idType && s.protocol === t.protocol && s.port === t.port && bytesEqual(s.data, t.data)
  return eq(x.local, y.local) && eq(x.remote, y.remote)
}

export class V1Lifecycle {
  /** Every live child SA by our inbound SPI, whoever holds it. */
  readonly children = new Map<number, ChildLife>()
  private readonly m: IkeV1Manager
  private readonly o: LifecycleOptions

  constructor(m: IkeV1Manager, o: LifecycleOptions) { this.m = m; this.o = o }

  /** Lifetime minus the margin (capped at half the lifetime) less up to `fuzz` of it. */
  private softFor(lifeMs: number): number {
    const margin = Math.min(this.o.marginMs, lifeMs / 2)
    return lifeMs - margin + Math.floor(margin * this.o.fuzz * (randomU32(this.o.rng) / 0x100000000))
  }

  /** An authenticated message arrived for `e` (main mode 1/2 tells whether the peer does DPD, RFC 3706 §5.1). */
  seen(now: Millis, e: IkeV1Entry, msg: InboundV1): void {
    e.life.dpd.lastSeen = now
    if (msg.header.messageId === 0 && msg.payloads.some((p) => p.payload === 'vendorId' && bytesEqual(p.data, VID_DPD))) e.life.dpd.peerSupports = true
  }

  /** The ESP layer saw a packet on `inboundSpi`: proof of life for DPD. One lookup, one store. */
  trafficSeen(now: Millis, inboundSpi: number): void {
    const c = this.children.get(inboundSpi)
    if (c !== undefined) c.lastInbound = now
  }

  childRequested(e: IkeV1Entry, mid: number, request: ChildSaRequest): void {
    e.life.pending.set(mid, { request, rekeyOf: e.life.firstRekeyOf })
    e.life.firstRekeyOf = undefined
  }

  /** A quick mode finished: records the child; returns the fields its childSaUp event adds. */
  childUp(now: Millis, e: IkeV1Entry, mid: number, r: ChildSaParams): { rekeyOf?: number } {
    const p = e.life.pending.get(mid)
    e.life.pending.delete(mid)
    // A Life Duration of 0 means nothing usable: the RFC 2407 §4.5 default applies, as when absent.
    const lifeMs = (r.lifetimeSeconds || DEFAULT_CHILD_LIFETIME_SECONDS) * 1000
    const request: ChildSaRequest = p?.request ?? { mode: r.mode, ...(r.selectors ? { selectors: r.selectors } : {}) }
    const c: ChildLife = {
      inSpi: r.inbound.spi, outSpi: r.outbound.spi, owner: e, saName: hex(e.sa.ckyI), peerKey: peerKey(e), peerAddress: e.sa.peer.address, peerId: e.sa.peerId!,
      origin: e.sa.role === 'initiator' ? e.life.origin : undefined, phase1: e.life.phase1,
      ours: p !== undefined, request, hardAt: now + lifeMs, softAt: p ? now + this.softFor(lifeMs) : undefined,
      rekeyMid: undefined, replacedBy: undefined, deleteAt: undefined, lastInbound: now,
    }
    // IKEv1 has no rekey marker: a child from the peer with the mode and selectors of a live one of the
    // same peer replaces it (strongSwan does the same); the peer deletes the old one after its overlap.
    let old = p?.rekeyOf !== undefined ? this.children.get(p.rekeyOf) : undefined
    if (!p) for (const x of this.children.values()) if (!old && x.peerKey === c.peerKey && x.replacedBy === undefined && sameRequest(x.request, request)) old = x
    this.children.set(c.inSpi, c)
    if (!old || old.replacedBy !== undefined) return {}
    old.replacedBy = c.inSpi
    old.softAt = undefined
    old.rekeyMid = undefined
    if (p) old.deleteAt = now + this.o.overlapMs
    return { rekeyOf: old.inSpi }
  }

  /** The peer deleted this child: forget it; the reason names a rekey when it had been replaced. */
  childDeleted(inSpi: number): string | undefined {
    const c = this.children.get(inSpi)
    this.children.delete(inSpi)
    return c?.replacedBy !== undefined ? 'rekeyed' : undefined
  }

  /** Main mode finished: phase 1 timers, the SA this one re-establishes, children waiting for an ISAKMP SA. */
  ikeUp(now: Millis, e: IkeV1Entry): void {
    const lifeMs = Math.min(e.mm.transform?.seconds || DEFAULT_IKE_LIFETIME_SECONDS, this.o.ikeLifetimeSeconds) * 1000
    e.life.hardAt = now + lifeMs
    if (e.sa.role === 'initiator') e.life.softAt = now + this.softFor(lifeMs)
    e.life.dpd.lastSeen = now
    const name = hex(e.sa.ckyI)
    const old = e.life.reauthOf !== undefined ? this.m.entries.get(e.life.reauthOf) : undefined
    if (old) {
      this.move(old, e)
      this.deleteIsakmp(old)
      old.life.closed = { replacedBy: name }
      this.m.close(old, 'rekeyed')
    }
    const key = peerKey(e)
    for (const c of [...this.children.values()]) {
      if (c.owner) continue
      // RFC 2407 §4.6.3.3: INITIAL-CONTACT says the peer holds no other SA with us; its orphans are gone too.
      if (e.mm.initialContactReceived && c.peerId.idType === e.sa.peerId!.idType && bytesEqual(c.peerId.data, e.sa.peerId!.data)) this.drop(c, 'replaced: the peer sent INITIAL-CONTACT')
      else if (c.peerKey === key) this.adopt(c, e)
    }
  }

  /** True when a child (held or orphaned) talks to `address`: a new main mode must not send INITIAL-CONTACT. */
  hasChildrenWith(address: string): boolean {
    for (const c of this.children.values()) if (c.peerAddress === address) return true
    return false
  }

  /**
   * `e` is ending without its children being deleted (its lifetime ran out, or the peer deleted only the
   * ISAKMP SA): they move to another established ISAKMP SA of the same peer, or wait as orphans for the
   * next one (or their own expiry).
   */
  handOver(e: IkeV1Entry): void {
    const heir = this.heir(e)
    const kept = [...e.children.keys()]
    if (kept.length === 0) return
    if (heir) this.move(e, heir)
    else for (const inSpi of kept) { const c = this.children.get(inSpi); if (c) c.owner = undefined }
    e.children.clear()
    e.life.closed = { ...e.life.closed, keptChildren: kept }
  }

  /** The newest other established ISAKMP SA with the same peer (ID, address, port), if any. */
  private heir(e: IkeV1Entry): IkeV1Entry | undefined {
    let heir: IkeV1Entry | undefined
    const key = peerKey(e)
    for (const x of this.m.entries.values()) if (x !== e && x.sa.state === 'established' && peerKey(x) === key) heir = x
    return heir
  }

  /** DPD notifies in an authenticated informational (RFC 3706 §5.3, §5.4); other content is proof of life. */
  informational(now: Millis, e: IkeV1Entry, out: InformationalOutcome): void {
    const d = e.life.dpd
    // A DELETE may come through another ISAKMP SA of the same peer than the one holding the child (e.g. our
    // copy of the old ISAKMP SA lives on because its DELETE was lost): that SA takes the child first.
    const key = peerKey(e)
    for (const spi of out.deletedOutboundSpis) {
      for (const c of this.children.values()) {
        if (c.outSpi !== spi || c.owner === e || c.peerKey !== key) continue
        c.owner?.children.delete(c.inSpi)
        this.adopt(c, e)
      }
    }
    if (out.deletedOutboundSpis.length > 0 || out.deleteIsakmp || out.notifies.some((t) => !isDpdNotify(t))) d.lastSeen = now
    for (const n of out.status) {
      if (!isDpdNotify(n.notifyType)) continue
      if (e.sa.state !== 'established') { this.m.stats.inc('drop:dpd:not-established'); continue }
      const r = receiveDpd(d, e.sa, now, n.notifyType, n.spi, n.data)
      this.m.stats.inc(r.count)
      if (r.ack !== undefined) this.sendInformational(e, [dpdNotify(e.sa, NotifyType.RUThereAck, r.ack)])
    }
  }

  /** Starts a rekey of the child now (the ESP layer's soft byte/sequence limit). False for an unknown or replaced SPI. */
  rekeyChild(now: Millis, inboundSpi: number): boolean {
    const c = this.children.get(inboundSpi)
    if (!c || c.replacedBy !== undefined) return false
    if (c.rekeyMid === undefined) { c.softAt = now; this.childTimeout(now, c) }
    // In flight, or waiting for the ISAKMP SA's message slot / a new ISAKMP SA; false when nobody can rekey it.
    return c.rekeyMid !== undefined || c.softAt !== undefined
  }

  timeout(now: Millis): void {
    for (const e of [...this.m.entries.values()]) if (this.m.entries.get(hex(e.sa.ckyI)) === e) this.entryTimeout(now, e)
    for (const c of [...this.children.values()]) if (this.children.get(c.inSpi) === c) this.childTimeout(now, c)
  }

  deadline(): Millis | undefined {
    let t: Millis | undefined
    const at = (x: Millis | undefined) => { if (x !== undefined && (t === undefined || x < t)) t = x }
    for (const e of this.m.entries.values()) {
      if (e.sa.state !== 'established') continue
      at(e.life.hardAt); at(e.life.softAt)
      if (this.o.dpd && e.life.dpd.peerSupports) at(dpdDeadline(e.life.dpd, this.o.dpd, this.lastHeard(e)))
    }
    for (const c of this.children.values()) { at(c.deleteAt); at(c.hardAt); if (c.replacedBy === undefined) at(c.softAt) }
    return t
  }

  private lastHeard(e: IkeV1Entry): Millis {
    let t = e.life.dpd.lastSeen
    for (const inSpi of e.children.keys()) { const c = this.children.get(inSpi); if (c && c.lastInbound > t) t = c.lastInbound }
    return t
  }

  private entryTimeout(now: Millis, e: IkeV1Entry): void {
    if (e.sa.state !== 'established') return
    const l = e.life
    if (l.hardAt !== undefined && now >= l.hardAt) {
      // The ISAKMP SA expired: its children live on (IKEv1: they have lifetimes of their own).
      this.handOver(e)
      this.deleteIsakmp(e)
      this.m.close(e, 'ISAKMP SA lifetime expired')
      return
    }
    if (l.softAt !== undefined && now >= l.softAt) this.reauthenticate(now, e)
    if (this.o.dpd && l.dpd.peerSupports) {
      const step = dpdStep(l.dpd, this.o.dpd, this.lastHeard(e), now)
      if (step === 'dead') {
        // A stale copy of an ISAKMP SA the peer has replaced (its DELETE was lost) goes silent while the peer
        // talks through the new one: the children move there instead of going down with it.
        if (this.heir(e)) this.handOver(e)
        this.m.close(e, DPD_DEAD_REASON)
        return
      }
      if (step) this.probe(now, e)
    }
  }

  /** Initiator, before its ISAKMP SA expires: a new main mode to the same peer; the old one goes once it is up. */
  private reauthenticate(now: Millis, e: IkeV1Entry): void {
    const l = e.life
    if (l.reauthBy !== undefined && this.m.entries.has(l.reauthBy)) { l.softAt = now + RETRY_MS; return }
    l.reauthBy = undefined
    if (e.children.size === 0) { l.softAt = undefined; return }
    const name = this.m.connect(now, l.origin, undefined, l.phase1)
    this.m.entries.get(name)!.life.reauthOf = hex(e.sa.ckyI)
    l.reauthBy = name
    l.softAt = now + RETRY_MS
  }

  private childTimeout(now: Millis, c: ChildLife): void {
    if (c.deleteAt !== undefined && now >= c.deleteAt) { this.drop(c, 'rekeyed', true); return }
    if (now >= c.hardAt) { this.drop(c, c.replacedBy !== undefined ? 'rekeyed' : 'expired', true); return }
    if (c.softAt === undefined || now < c.softAt || c.replacedBy !== undefined) return
    const e = c.owner
    if (c.rekeyMid !== undefined && e?.qm.has(c.rekeyMid)) { c.softAt = now + RETRY_MS; return }
    c.rekeyMid = undefined
    if (!e) {
      // No ISAKMP SA holds it: the one who started it builds a new ISAKMP SA whose quick mode replaces it.
      if (!c.ours || !c.origin) { c.softAt = undefined; return }
      const name = this.m.connect(now, c.origin, c.request, c.phase1)
      this.m.entries.get(name)!.life.firstRekeyOf = c.inSpi
      c.softAt = now + RETRY_MS
      return
    }
    if (e.sa.state !== 'established') { c.softAt = now + RETRY_MS; return }
    // One message in flight per ISAKMP SA (the manager's retransmission slot): wait for it.
    if (e.outstanding) { c.softAt = Math.max(e.outstanding.at, now + 1); return }
    const mid = this.m.createChildSa(now, hex(e.sa.ckyI), c.request)
    if (mid === undefined) { c.softAt = now + RETRY_MS; return }
    e.life.pending.get(mid)!.rekeyOf = c.inSpi
    c.rekeyMid = mid
    c.softAt = now + RETRY_MS
  }

  private probe(now: Millis, e: IkeV1Entry): void {
    const { seq, count } = nextProbe(e.life.dpd, now, this.o.retransmit)
    this.m.stats.inc(count)
    // Each send is a new R-U-THERE with the next sequence number (RFC 3706 §7) under a fresh message ID.
    this.sendInformational(e, [dpdNotify(e.sa, NotifyType.RUThere, seq)])
  }

  private sendInformational(e: IkeV1Entry, body: readonly IsakmpPayload[]): void {
    const mid = newMessageId(this.o.rng, (x) => e.qm.has(x) || e.doneMids.has(x))
    this.m.transmits.push({ to: e.sa.peer, data: sealInformational(e.sa, mid, body) })
  }

  private deleteIsakmp(e: IkeV1Entry): void {
    if (e.sa.state === 'established') this.sendInformational(e, sendDelete(e.sa, [], true))
  }

  /** Ends a child: DELETE through its ISAKMP SA when there is one (`notify`), then childSaDown. */
  private drop(c: ChildLife, reason: string, notify = false): void {
    this.children.delete(c.inSpi)
    const e = c.owner
    if (e) {
      e.children.delete(c.inSpi)
      if (notify && e.sa.state === 'established') this.sendInformational(e, sendDelete(e.sa, [c.inSpi], false))
    }
    this.m.events.push({ type: 'childSaDown', sa: c.saName, inboundSpi: c.inSpi, outboundSpi: c.outSpi, reason })
  }

  private adopt(c: ChildLife, e: IkeV1Entry): void {
    c.owner = e
    c.saName = hex(e.sa.ckyI)
    c.peerKey = peerKey(e)
    c.peerAddress = e.sa.peer.address
    c.origin = e.sa.role === 'initiator' ? e.life.origin : undefined
    c.phase1 = e.life.phase1
    e.children.set(c.inSpi, c.outSpi)
  }

  private move(from: IkeV1Entry, to: IkeV1Entry): void {
    for (const inSpi of from.children.keys()) { const c = this.children.get(inSpi); if (c) this.adopt(c, to) }
    from.children.clear()
  }
}

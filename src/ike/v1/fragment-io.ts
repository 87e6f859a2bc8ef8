// IKEv1 fragmentation in the task manager (Cisco/Microsoft, no RFC; codec in fragments.ts): inbound type-132
// fragments reassembled per ISAKMP SA before decryption, bounded per SA, in total and in time; outbound
// messages split when the peer announced VID_FRAGMENTATION and the datagram exceeds the fragment size.
import type { Endpoint } from '../../lib/endpoint.js'
import type { Millis } from '../../lib/time.js'
import { bytesEqual } from '../../lib/bytes.js'
import type { Counters } from '../../lib/counters.js'
import { DecodeError } from '../../lib/errors.js'
import { ISAKMP_HEADER_LENGTH, PayloadType } from './constants.js'
import { FragmentReassembler, splitIntoFragments } from './fragments.js'
import { decodeHeader } from './message/header.js'
import { decodeMessage } from './message/message.js'

export interface FragmentationOptions {
  /**
   * Largest IP datagram we send an IKE message or fragment in, as strongSwan's `charon.fragment_size`
   * (strongswan.conf(5): "complete IP datagram size", default 1280). Messages above it are fragmented
   * towards peers that announced fragmentation; the UDP payload limit is this minus the IP (20/40) and
   * UDP (8) headers and, on port 4500, the non-ESP marker (4).
   */
  readonly fragmentSize: number
  /** An unfinished reassembly is dropped after this long (the peer's retransmission starts over). */
  readonly reassemblyTimeoutMs: number
  /** Fragment data held for all SAs together (each SA is also bounded: 16 fragments, 64 KiB). */
  readonly reassemblyMemoryTotal: number
}

/** Ours: strongSwan's default size; 30 s like our half-open timeout; 1 MiB over all SAs. */
export const DEFAULT_FRAGMENTATION: FragmentationOptions = { fragmentSize: 1280, reassemblyTimeoutMs: 30_000, reassemblyMemoryTotal: 1 << 20 }

/** ISAKMP header + fragment payload header (generic 4 + ID 2 + number 1 + flags 1). */
const FRAGMENT_OVERHEAD = ISAKMP_HEADER_LENGTH + 8

export class FragmentIo {
  private readonly o: FragmentationOptions
  private readonly stats: Counters
  private readonly inbound = new Map<string, { readonly r: FragmentReassembler; since: Millis; id: number | undefined }>()
  private held = 0
  private nextId = 1
  /** The same message bytes (a retransmission) go out with the same fragment ID, so a receiver can fill gaps. */
  private readonly ids = new WeakMap<Uint8Array, number>()

  constructor(o: FragmentationOptions, stats: Counters) {
    this.o = o
    this.stats = stats
  }

  /**
   * Takes one fragment message of SA `sa` (already matched by cookies). Returns the whole original
   * datagram once every fragment is in, else undefined; every refusal is counted (`drop:fragment:*`).
   * Never throws.
   */
  receive(now: Millis, sa: string, data: Uint8Array): Uint8Array | undefined {
    let m
    try { m = decodeMessage(data) } catch (e) {
      if (!(e instanceof DecodeError)) throw e
      this.stats.inc('drop:fragment:malformed'); return undefined
    }
    const p = m.payloads[0]
    if (m.payloads.length !== 1 || !p || p.payload !== 'fragment') { this.stats.inc('drop:fragment:malformed'); return undefined }
    let st = this.inbound.get(sa)
    if (!st) { st = { r: new FragmentReassembler(), since: now, id: undefined }; this.inbound.set(sa, st) }
    const before = st.r.heldBytes
    // The clock starts with a message's first fragment (a new fragment ID replaces an unfinished set).
    if (st.r.heldBytes === 0 || p.fragmentId !== st.id) { st.since = now; st.id = p.fragmentId }
    // Conservative: the bytes of an unfinished older message of this SA still count until they are freed.
    if (this.held + p.data.length > this.o.reassemblyMemoryTotal) {
      this.stats.inc('drop:fragment:memory'); return undefined
    }
    const res = st.r.add(p)
    this.held += st.r.heldBytes - before
    if (res.status === 'dropped') { this.stats.inc(`drop:fragment:${res.reason}`); return undefined }
    if (res.status === 'incomplete') return undefined
    this.forget(sa)
    this.stats.inc('rx:reassembled')
    const whole = res.datagram
    // The whole message must be an ordinary one of the same SA: no fragment inside a fragment.
    if (whole.length < ISAKMP_HEADER_LENGTH) { this.stats.inc('drop:fragment:reassembled-short'); return undefined }
    const h = decodeHeader(whole)
    if (h.nextPayload === PayloadType.IkeFragment || !bytesEqual(h.initiatorCookie, m.header.initiatorCookie) || !bytesEqual(h.responderCookie, m.header.responderCookie)) {
      this.stats.inc('drop:fragment:reassembled-mismatch'); return undefined
    }
    return whole
  }

  /**
   * What to send for `data` to `to`: the datagram itself, or its fragments when `peerSupports` and it
   * is larger than the UDP payload limit (`natT`: IKE on 4500 carries the non-ESP marker).
   */
  split(data: Uint8Array, to: Endpoint, peerSupports: boolean, natT: boolean): readonly Uint8Array[] {
    const limit = this.o.fragmentSize - (to.address.includes(':') ? 40 : 20) - 8 - (natT ? 4 : 0)
    if (!peerSupports || data.length <= limit) return [data]
    let id = this.ids.get(data)
    if (id === undefined) {
      id = this.nextId
      this.nextId = this.nextId >= 0xffff ? 1 : this.nextId + 1
      this.ids.set(data, id)
    }
    const h = decodeHeader(data)
    this.stats.inc('tx:fragmented')
    return splitIntoFragments(data, { initiatorCookie: h.initiatorCookie, responderCookie: h.responderCookie, version: h.version, exchangeType: h.exchangeType, flags: h.flags, messageId: h.messageId }, id, limit - FRAGMENT_OVERHEAD)
  }

  /** Drops reassemblies older than the timeout (counted). */
  expire(now: Millis): void {
    for (const [sa, st] of this.inbound) {
      if (st.r.heldBytes > 0 && now - st.since >= this.o.reassemblyTimeoutMs) { this.stats.inc('drop:fragment:timeout'); this.forget(sa) }
    }
  }

  nextTimeout(): Millis | undefined {
    let t: Millis | undefined
    for (const st of this.inbound.values()) if (st.r.heldBytes > 0 && (t === undefined || st.since + this.o.reassemblyTimeoutMs < t)) t = st.since + this.o.reassemblyTimeoutMs
    return t
  }

  /** Frees what SA `sa` holds (its reassembly finished, timed out, or the SA ended). */
  forget(sa: string): void {
    const st = this.inbound.get(sa)
    if (!st) return
    this.held -= st.r.heldBytes
    this.inbound.delete(sa)
  }

  /** Fragment data held over all SAs (tests, the admin view). */
  get heldBytes(): number { return this.held }
}

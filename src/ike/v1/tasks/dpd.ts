// IKEv1 Dead Peer Detection (RFC 3706): the R-U-THERE / R-U-THERE-ACK notifies (§5.3, §7), sequence
// numbers in serial arithmetic, and the per-ISAKMP-SA idle/probe/dead clock. Sans-IO: the manager sends.
//
//                       1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  ! Next Payload  !   RESERVED    !         Payload Length        !
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  !              Domain of Interpretation  (DOI)                  !
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  !  Protocol-ID  !    SPI Size   !      Notify Message Type      !
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  ~                Security Parameter Index (SPI)                 ~   CKY-I | CKY-R (16 bytes)
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  !                    Notification Data                          !   32-bit sequence number
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
import type { Millis } from '../../../lib/time.js'
import { bytesEqual } from '../../../lib/bytes.js'
import { Doi, NotifyType, ProtocolId } from '../constants.js'
import type { IsakmpPayload } from '../message/payloads.js'
import type { IkeSaV1 } from '../ike-sa.js'

export interface DpdOptions {
  /** Idle time (no authenticated IKE message, no inbound ESP) before an R-U-THERE (strongSwan dpddelay). */
  readonly intervalMs: number
  /** Silence after which the peer is declared dead (strongSwan dpdtimeout). */
  readonly timeoutMs: number
}
export const DEFAULT_DPD: DpdOptions = { intervalMs: 30_000, timeoutMs: 150_000 }
export const DPD_DEAD_REASON = 'the peer stopped answering dead peer detection (RFC 3706)'

/** One probe round: the sequence numbers sent in it (each retransmission takes the next one). */
export interface DpdProbe { readonly first: number; last: number; readonly startedAt: Millis; nextAt: Millis; tries: number }

/** DPD state of one ISAKMP SA. */
export class DpdState {
  /** The peer announced the RFC 3706 vendor ID in main mode 1/2 (§5.1); DPD is off otherwise. */
  peerSupports = false
  /** The last authenticated IKE message from the peer. */
  lastSeen: Millis
  /** The sequence number of the last R-U-THERE we sent (random start, RFC 3706 §7). */
  seq: number
  probe: DpdProbe | undefined
  /** The last R-U-THERE sequence number we answered (replays are counted, not answered). */
  peerSeq: number | undefined

  constructor(now: Millis, firstSeq: number) {
    this.lastSeen = now
    this.seq = firstSeq >>> 0
  }

  /** The next sequence number (RFC 3706 §7: incremented for each R-U-THERE, wrapping at 2^32). */
  nextSeq(): number { this.seq = (this.seq + 1) >>> 0; return this.seq }
}

/** Serial number arithmetic (RFC 1982 style): true when `a` comes after `b` within half the space. */
export function seqAfter(a: number, b: number): boolean {
  const d = (a - b) >>> 0
  return d !== 0 && d < 0x80000000
}
/** True when `s` lies in [first, last] going forward from `first`. */
export function seqWithin(s: number, first: number, last: number): boolean {
  return ((s - first) >>> 0) <= ((last - first) >>> 0)
}

/** The R-U-THERE (36136) or R-U-THERE-ACK (36137) notify for `sa` (RFC 3706 §5.3: SPI = CKY-I | CKY-R). */
export function dpdNotify(sa: IkeSaV1, notifyType: number, seq: number): IsakmpPayload {
  const spi = new Uint8Array(16); spi.set(sa.ckyI); spi.set(sa.ckyR, 8)
  const data = Uint8Array.of(seq >>> 24, (seq >>> 16) & 0xff, (seq >>> 8) & 0xff, seq & 0xff)
  return { payload: 'notify', doi: Doi.Ipsec, protocolId: ProtocolId.Isakmp, spi, notifyType, data }
}

export function isDpdNotify(notifyType: number): boolean {
  return notifyType === NotifyType.RUThere || notifyType === NotifyType.RUThereAck
}

/**
 * Reads the sequence number of a DPD notify. RFC 3706 §5.4 (paraphrased): both the receiver of R-U-THERE
 * and of R-U-THERE-ACK must check the cookie pair in the SPI field; §5.3: the data is the 4-byte sequence.
 */
export function readDpdNotify(sa: IkeSaV1, spi: Uint8Array, data: Uint8Array): { readonly seq: number } | { readonly bad: 'spi' | 'length' } {
  if (spi.length !== 16 || !bytesEqual(spi.subarray(0, 8), sa.ckyI) || !bytesEqual(spi.subarray(8), sa.ckyR)) return { bad: 'spi' }
  if (data.length !== 4) return { bad: 'length' }
  return { seq: ((data[0]! << 24) >>> 0) + ((data[1]! << 16) | (data[2]! << 8) | data[3]!) }
}

export type DpdAction = 'probe' | 'retransmit' | 'dead' | undefined

/**
 * What the DPD clock asks for at `now`, given the last time the peer was heard from (IKE or ESP).
 * Traffic after a probe started ends the probe (the peer is alive, RFC 3706 §4: traffic is proof).
 */
export function dpdStep(d: DpdState, o: DpdOptions, lastHeard: Millis, now: Millis): DpdAction {
  if (d.probe && lastHeard > d.probe.startedAt) d.probe = undefined
  if (!d.probe) return now >= lastHeard + o.intervalMs ? 'probe' : undefined
  if (now >= lastHeard + o.timeoutMs) return 'dead'
  return now >= d.probe.nextAt ? 'retransmit' : undefined
}

/** When dpdStep next has something to do. */
export function dpdDeadline(d: DpdState, o: DpdOptions, lastHeard: Millis): Millis {
  if (!d.probe || lastHeard > d.probe.startedAt) return lastHeard + o.intervalMs
  return Math.min(d.probe.nextAt, lastHeard + o.timeoutMs)
}

/** Starts a probe round or extends it (a retransmission is a new R-U-THERE with the next number, re-armed with back-off). */
export function nextProbe(d: DpdState, now: Millis, r: { readonly firstMs: number; readonly factor: number }): { readonly seq: number; readonly count: string } {
  const seq = d.nextSeq()
  if (!d.probe) { d.probe = { first: seq, last: seq, startedAt: now, nextAt: now + r.firstMs, tries: 0 }; return { seq, count: 'tx:dpd:r-u-there' } }
  d.probe.last = seq
  d.probe.tries++
  d.probe.nextAt = now + r.firstMs * r.factor ** d.probe.tries
  return { seq, count: 'tx:dpd:retransmit' }
}

/**
 * An authenticated R-U-THERE or R-U-THERE-ACK for this ISAKMP SA: the counter to bump and, for an
 * R-U-THERE we answer, the sequence number the ACK echoes (RFC 3706 §5.3).
 */
export function receiveDpd(d: DpdState, sa: IkeSaV1, now: Millis, notifyType: number, spi: Uint8Array, data: Uint8Array): { readonly count: string; readonly ack?: number } {
  const r = readDpdNotify(sa, spi, data)
  if ('bad' in r) return { count: `drop:dpd:bad-${r.bad}` }
  if (notifyType === NotifyType.RUThere) {
    // A repeat of the last number is answered again (our ACK may have been lost; some peers resend with the
    // same number); an older one is a replay: counted, unanswered, no proof of life.
    if (d.peerSeq !== undefined && r.seq !== d.peerSeq && !seqAfter(r.seq, d.peerSeq)) return { count: 'drop:dpd:replayed-sequence' }
    d.peerSeq = r.seq
    d.lastSeen = now
    return { count: 'rx:dpd:r-u-there', ack: r.seq }
  }
  // RFC 3706 §5.3 (paraphrased): the sender of R-U-THERE rejects an ACK whose sequence number is not one it
  // sent. Any number of this probe round is ours; older ones are replays.
  if (!d.probe) return { count: 'drop:dpd:unexpected-ack' }
  if (!seqWithin(r.seq, d.probe.first, d.probe.last)) return { count: 'drop:dpd:bad-sequence' }
  d.probe = undefined
  d.lastSeen = now
  return { count: 'rx:dpd:ack' }
}

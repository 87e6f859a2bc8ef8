// Per-IKE-SA bookkeeping of the IKEv1 task manager: the SA with its tasks, the message awaiting an
// answer (retransmission), the reply cache for retransmitted requests (RFC 2408 §5), child SA SPIs.
import type { Endpoint } from '../../lib/endpoint.js'
import type { Millis } from '../../lib/time.js'
import { Doi, NotifyType, ProtocolId } from './constants.js'
import type { IsakmpPayload } from './message/payloads.js'
import type { IkeSaV1 } from './ike-sa.js'
import type { MainModeTask } from './tasks/main-mode.js'
import type { QuickModeTask } from './tasks/quick-mode.js'
import type { ChildSaRequest, ConnectOptions } from './endpoint.js'
import { DpdState } from './tasks/dpd.js'

/** The last message we sent that waits for an answer, and when to send it again. */
export interface Outstanding { readonly bytes: Uint8Array; readonly what: string; tries: number; at: Millis }
/** RFC 2408 §5: a retransmitted request gets the same reply bytes, never a re-processing (the IV chain would fork). */
export interface CacheEntry { readonly request: Uint8Array; readonly reply: Uint8Array | undefined }

export interface IkeV1Entry {
  readonly sa: IkeSaV1
  readonly mm: MainModeTask
  readonly qm: Map<number, QuickModeTask>
  readonly doneMids: Set<number>
  child: ChildSaRequest | undefined
  outstanding: Outstanding | undefined
  cache: CacheEntry[]
  authFailures: number
  /** Our inbound SPI -> the peer's (outbound) SPI of each child SA. */
  readonly children: Map<number, number>
  /** DPD, lifetimes and rekeying (lifetimes.ts). */
  readonly life: EntryLife
}

/** Per-ISAKMP-SA state of dead peer detection, phase 1 lifetime and re-establishment. */
export interface EntryLife {
  /** Where connect() aimed: a re-established ISAKMP SA goes there again (before any NAT-T float). */
  readonly origin: Endpoint
  /** How connect() ran phase 1 (aggressive mode, our ID): a re-established ISAKMP SA runs it the same way. */
  phase1?: ConnectOptions
  readonly dpd: DpdState
  /** Phase 1 rekey (initiator: a new main mode) and hard expiry; set when main mode completes. */
  softAt: Millis | undefined
  hardAt: Millis | undefined
  /** This SA re-establishes the named one (no quick mode of its own; it adopts the children). */
  reauthOf: string | undefined
  /** The SA re-establishing this one, while its main mode runs. */
  reauthBy: string | undefined
  /** The first quick mode of this SA replaces that orphaned child (our inbound SPI). */
  firstRekeyOf: number | undefined
  /** Quick modes we started, by message ID: what was asked (kept for rekeying) and the child it replaces. */
  readonly pending: Map<number, { readonly request: ChildSaRequest; rekeyOf: number | undefined }>
  /** Fields the `closed` event carries (children handed over to another SA or kept, the replacing SA). */
  closed: { keptChildren?: readonly number[]; replacedBy?: string }
}

export function newEntryLife(origin: Endpoint, now: Millis, firstDpdSeq: number): EntryLife {
  return { origin, dpd: new DpdState(now, firstDpdSeq), softAt: undefined, hardAt: undefined, reauthOf: undefined, reauthBy: undefined, firstRekeyOf: undefined, pending: new Map(), closed: {} }
}

const CACHE_SIZE = 4
const NOTIFY_NAMES = new Map<number, string>(Object.entries(NotifyType).map(([k, v]) => [v, k]))
/** A notify type as its RFC name (NoProposalChosen), or its number. */
export function notifyName(t: number): string { return NOTIFY_NAMES.get(t) ?? String(t) }
export function plainNotify(notifyType: number): IsakmpPayload {
  return { payload: 'notify', doi: Doi.Ipsec, protocolId: ProtocolId.Isakmp, spi: new Uint8Array(0), notifyType, data: new Uint8Array(0) }
}
/** The message we answer a rule's message with (for retransmission reasons). */
export const NEXT_MESSAGE: Partial<Record<string, string>> = { mainMode2: 'main mode 3', mainMode4: 'main mode 5', quickMode1: 'quick mode 2', aggressive1: 'aggressive mode 2' }
export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
export const ZERO8 = new Uint8Array(8)


/** Keeps a request and our answer (if any) so a retransmitted copy gets the same bytes back. */
export function remember(e: IkeV1Entry, request: Uint8Array, reply: Uint8Array | undefined): void {
  e.cache.push({ request, reply })
  if (e.cache.length > CACHE_SIZE) e.cache.shift()
}

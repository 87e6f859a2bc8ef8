// Which payloads may appear, how often and in what leading order, per message of each IKEv1 exchange:
// Main Mode 1–6 and Aggressive Mode 1–3 (RFC 2409 §5.1–§5.4), Quick Mode 1–3 (§5.5), Informational
// (§5.7), with NAT-T additions (RFC 3947 §3, §5). A separate step after decoding (DESIGN.md §3).
import { HeaderFlag, NotifyType, PayloadType as T } from '../constants.js'
import { PAYLOADS } from './payloads.js'

export interface OccurrenceRule {
  readonly payload: number
  readonly min: number
  readonly max: number
  /** When set, the count must be one of these (Quick Mode IDci/IDcr: none or both, RFC 2409 §5.5). */
  readonly counts?: readonly number[]
}
/** The members together must occur between min and max times (HASH_I or SIG_I: exactly one). */
export interface GroupRule { readonly members: readonly number[]; readonly min: number; readonly max: number }

export interface MessageRule {
  readonly name: string
  readonly exchangeType: number
  readonly encrypted: 'yes' | 'no' | 'either'
  /** Types that must lead the message in this order (only where the RFC says MUST). */
  readonly prefix: readonly number[]
  readonly occurrences: readonly OccurrenceRule[]
  readonly groups: readonly GroupRule[]
}

export interface RuleViolation {
  readonly reason: 'encryption' | 'order' | 'missing' | 'too-many' | 'unexpected' | 'count'
  readonly payloadType?: number
  /** The RFC 2408 §3.14.1 notify an authenticated peer would get (DESIGN.md §5). */
  readonly notify: number
}

const many = (payload: number, max = 32): OccurrenceRule => ({ payload, min: 0, max })
const one = (payload: number): OccurrenceRule => ({ payload, min: 1, max: 1 })
const optional = (payload: number): OccurrenceRule => ({ payload, min: 0, max: 1 })
const VIDS = many(T.VendorId)
/** RFC 3947 §3.2: a sender with several local addresses sends one NAT-D per address; capped. */
const NATD = [many(T.NatD, 8), many(T.NatDDraft, 8)]
const NATOA = [many(T.NatOa, 2), many(T.NatOaDraft, 2)]
const CERTS = many(T.Certificate, 8)
const CRS = many(T.CertificateRequest, 8)
const AUTH: GroupRule = { members: [T.Hash, T.Signature], min: 1, max: 1 }
const AUTH_PAYLOADS = [optional(T.Hash), optional(T.Signature)]
const MM = 2, AG = 4, INFO = 5, QM = 32

/** RFC 2409 §5: "the SA payload MUST precede all other payloads in a phase 1 exchange." */
const PHASE1_SA_FIRST = [T.SecurityAssociation]
/** RFC 2409 §5.5: "a HASH payload MUST immediately follow the ISAKMP header and a SA payload MUST immediately follow the HASH." */
const QM_HASH_SA_FIRST = [T.Hash, T.SecurityAssociation]

export const EXCHANGE_RULES = {
  mainMode1: { name: 'main mode 1 (HDR, SA)', exchangeType: MM, encrypted: 'no', prefix: PHASE1_SA_FIRST, occurrences: [one(T.SecurityAssociation), VIDS], groups: [] },
  mainMode2: { name: 'main mode 2 (HDR, SA)', exchangeType: MM, encrypted: 'no', prefix: PHASE1_SA_FIRST, occurrences: [one(T.SecurityAssociation), VIDS], groups: [] },
  mainMode3: { name: 'main mode 3 (HDR, KE, Ni)', exchangeType: MM, encrypted: 'no', prefix: [], occurrences: [one(T.KeyExchange), one(T.Nonce), ...NATD, CRS, VIDS], groups: [] },
  mainMode4: { name: 'main mode 4 (HDR, KE, Nr)', exchangeType: MM, encrypted: 'no', prefix: [], occurrences: [one(T.KeyExchange), one(T.Nonce), ...NATD, CRS, VIDS], groups: [] },
  mainMode5: { name: 'main mode 5 (HDR*, IDii, [CERT,] HASH_I|SIG_I)', exchangeType: MM, encrypted: 'yes', prefix: [], occurrences: [one(T.Identification), CERTS, CRS, ...AUTH_PAYLOADS, many(T.Notification, 4), VIDS], groups: [AUTH] },
  mainMode6: { name: 'main mode 6 (HDR*, IDir, [CERT,] HASH_R|SIG_R)', exchangeType: MM, encrypted: 'yes', prefix: [], occurrences: [one(T.Identification), CERTS, ...AUTH_PAYLOADS, many(T.Notification, 4), VIDS], groups: [AUTH] },
  aggressive1: { name: 'aggressive 1 (HDR, SA, KE, Ni, IDii)', exchangeType: AG, encrypted: 'no', prefix: PHASE1_SA_FIRST, occurrences: [one(T.SecurityAssociation), one(T.KeyExchange), one(T.Nonce), one(T.Identification), CRS, VIDS], groups: [] },
  aggressive2: { name: 'aggressive 2 (HDR, SA, KE, Nr, IDir, [CERT,] HASH_R|SIG_R)', exchangeType: AG, encrypted: 'no', prefix: PHASE1_SA_FIRST, occurrences: [one(T.SecurityAssociation), one(T.KeyExchange), one(T.Nonce), one(T.Identification), CERTS, CRS, ...AUTH_PAYLOADS, ...NATD, VIDS], groups: [AUTH] },
  // RFC 2409 §5.4 draws "HDR, HASH_I"; implementations send it either way (strongSwan encrypts it).
  aggressive3: { name: 'aggressive 3 (HDR, [CERT,] HASH_I|SIG_I)', exchangeType: AG, encrypted: 'either', prefix: [], occurrences: [CERTS, ...AUTH_PAYLOADS, ...NATD, many(T.Notification, 4), VIDS], groups: [AUTH] },
  quickMode1: { name: 'quick mode 1 (HDR*, HASH(1), SA, Ni [, KE] [, IDci, IDcr])', exchangeType: QM, encrypted: 'yes', prefix: QM_HASH_SA_FIRST, occurrences: [one(T.Hash), one(T.SecurityAssociation), one(T.Nonce), optional(T.KeyExchange), { payload: T.Identification, min: 0, max: 2, counts: [0, 2] }, ...NATOA, many(T.Notification, 4)], groups: [] },
  quickMode2: { name: 'quick mode 2 (HDR*, HASH(2), SA, Nr [, KE] [, IDci, IDcr])', exchangeType: QM, encrypted: 'yes', prefix: QM_HASH_SA_FIRST, occurrences: [one(T.Hash), one(T.SecurityAssociation), one(T.Nonce), optional(T.KeyExchange), { payload: T.Identification, min: 0, max: 2, counts: [0, 2] }, ...NATOA, many(T.Notification, 4)], groups: [] },
  quickMode3: { name: 'quick mode 3 (HDR*, HASH(3))', exchangeType: QM, encrypted: 'yes', prefix: [T.Hash], occurrences: [one(T.Hash)], groups: [] },
  // RFC 2409 §5.7: "HDR*, HASH(1), N/D" once the ISAKMP SA has keys.
  informational: { name: 'informational (HDR*, HASH(1), N/D)', exchangeType: INFO, encrypted: 'yes', prefix: [T.Hash], occurrences: [one(T.Hash), many(T.Notification, 8), many(T.Delete, 8)], groups: [{ members: [T.Notification, T.Delete], min: 1, max: 16 }] },
  // An error notify before keys exist (e.g. NO-PROPOSAL-CHOSEN answering main mode 1) travels in the clear.
  informationalPlain: { name: 'informational before keys (HDR, N)', exchangeType: INFO, encrypted: 'no', prefix: [], occurrences: [one(T.Notification), VIDS], groups: [] },
} as const satisfies Record<string, MessageRule>

export type MessageRuleName = keyof typeof EXCHANGE_RULES

/**
 * Checks a message's payload types (in wire order) and its E flag against `rule`. Returns the first
 * violation or undefined. Unknown types are INVALID-PAYLOAD-TYPE (RFC 2408 §5.2); a known type the
 * exchange does not allow, a wrong count or order is PAYLOAD-MALFORMED; a wrong E flag INVALID-FLAGS.
 */
export function checkMessage(rule: MessageRule, types: readonly number[], flags: number): RuleViolation | undefined {
  const enc = (flags & HeaderFlag.Encryption) !== 0
  if ((rule.encrypted === 'yes' && !enc) || (rule.encrypted === 'no' && enc)) return { reason: 'encryption', notify: NotifyType.InvalidFlags }
  for (const t of types) {
    if (!rule.occurrences.some((o) => o.payload === t)) {
      return { reason: 'unexpected', payloadType: t, notify: PAYLOADS[t] ? NotifyType.PayloadMalformed : NotifyType.InvalidPayloadType }
    }
  }
  for (let i = 0; i < rule.prefix.length; i++) {
    if (types[i] !== rule.prefix[i]) return { reason: 'order', payloadType: rule.prefix[i]!, notify: NotifyType.PayloadMalformed }
  }
  for (const o of rule.occurrences) {
    const n = types.filter((t) => t === o.payload).length
    if (n < o.min) return { reason: 'missing', payloadType: o.payload, notify: NotifyType.PayloadMalformed }
    if (n > o.max) return { reason: 'too-many', payloadType: o.payload, notify: NotifyType.PayloadMalformed }
    if (o.counts && !o.counts.includes(n)) return { reason: 'count', payloadType: o.payload, notify: NotifyType.PayloadMalformed }
  }
  for (const g of rule.groups) {
    const n = types.filter((t) => g.members.includes(t)).length
    if (n < g.min) return { reason: 'missing', payloadType: g.members[0]!, notify: NotifyType.PayloadMalformed }
    if (n > g.max) return { reason: 'too-many', payloadType: g.members[0]!, notify: NotifyType.PayloadMalformed }
  }
  return undefined
}

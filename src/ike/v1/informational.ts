// Default IKEv1 suites, and the informational exchange (RFC 2409 §5.7: "HDR*, HASH(1), N/D" with
// HASH(1) = prf(SKEYID_a, M-ID | N/D)) for DELETE (RFC 2408 §3.15) of child SAs and of the ISAKMP SA.
import { constantTimeEqual } from '../../lib/bytes.js'
import { randomU32 } from '../../crypto/rng.js'
import type { Rng } from '../../crypto/rng.js'
import { Doi, ExchangeType, HeaderFlag, ISAKMP_VERSION, ProtocolId, isErrorNotify } from './constants.js'
import { phase2Iv } from './crypto/cbc.js'
import { quickHash1 } from './crypto/keys.js'
import { bytesAfterFirstPayload, openMessage, sealMessage } from './crypto/protect.js'
import { decodeMessage, encodePayloadChain } from './message/message.js'
import { EXCHANGE_RULES, checkMessage } from './message/exchange-rules.js'
import type { IsakmpHeader } from './message/header.js'
import type { IsakmpPayload } from './message/payloads.js'
import type { IkeSaV1 } from './ike-sa.js'
import { EncapsulationMode, EspTransformId, IpsecAuthAlgorithm, OakleyAuth, OakleyEncryption, OakleyGroup, OakleyHash } from './oakley.js'
import type { EspTransform, Phase1Transform } from './proposal/transforms.js'
import type { InboundV1 } from './tasks/types.js'

/** What an initiator offers in main mode by default: strong first, 3DES/MODP1024 last for old peers. */
export const DEFAULT_PHASE1_PROPOSALS: readonly Phase1Transform[] = [
  { encryption: OakleyEncryption.AesCbc, keyLength: 256, hash: OakleyHash.Sha2_256, authMethod: OakleyAuth.PreSharedKey, group: OakleyGroup.Modp2048, seconds: 28800 },
  { encryption: OakleyEncryption.AesCbc, keyLength: 128, hash: OakleyHash.Sha1, authMethod: OakleyAuth.PreSharedKey, group: OakleyGroup.Modp2048, seconds: 28800 },
  { encryption: OakleyEncryption.TripleDesCbc, hash: OakleyHash.Sha1, authMethod: OakleyAuth.PreSharedKey, group: OakleyGroup.Modp1024, seconds: 28800 },
]
/** What an initiator offers in quick mode by default (the encapsulation mode is filled in per SA). */
export const DEFAULT_ESP_PROPOSALS: readonly EspTransform[] = [
  { transformId: EspTransformId.AesCbc, keyLength: 256, authAlgorithm: IpsecAuthAlgorithm.HmacSha1, encapsulation: EncapsulationMode.Transport, seconds: 3600 },
  { transformId: EspTransformId.AesCbc, keyLength: 128, authAlgorithm: IpsecAuthAlgorithm.HmacSha1, encapsulation: EncapsulationMode.Transport, seconds: 3600 },
]

/** A fresh non-zero message ID not in `used` (RFC 2408 §3.1: phase 2 message IDs are random). */
export function newMessageId(rng: Rng, used: (mid: number) => boolean): number {
  for (;;) { const m = randomU32(rng); if (m !== 0 && !used(m)) return m }
}

/** Builds an encrypted informational message with HASH(1) over `body` under a fresh message ID. */
export function sealInformational(sa: IkeSaV1, messageId: number, body: readonly IsakmpPayload[]): Uint8Array {
  const k = sa.keys!
  const hash = quickHash1(k.hash, k.a, messageId, encodePayloadChain(body))
  const iv = phase2Iv(k.hash, k.cipher, sa.iv!, messageId)
  const header = { initiatorCookie: sa.ckyI, responderCookie: sa.ckyR, version: ISAKMP_VERSION, exchangeType: ExchangeType.Informational, flags: 0, messageId }
  return sealMessage(header, [{ payload: 'hash', data: hash }, ...body], k.cipher, k.encKey, iv).bytes
}

/** DELETE payloads for our inbound ESP SPIs and, when `isakmp`, for the ISAKMP SA (its 16-byte cookie pair). */
export function sendDelete(sa: IkeSaV1, espSpis: readonly number[], isakmp: boolean): IsakmpPayload[] {
  const out: IsakmpPayload[] = []
  if (espSpis.length > 0) out.push({ payload: 'delete', doi: Doi.Ipsec, protocolId: ProtocolId.IpsecEsp, spiSize: 4, spis: espSpis.map((s) => Uint8Array.of(s >>> 24, (s >>> 16) & 0xff, (s >>> 8) & 0xff, s & 0xff)) })
  if (isakmp) {
    const spi = new Uint8Array(16); spi.set(sa.ckyI); spi.set(sa.ckyR, 8)
    out.push({ payload: 'delete', doi: Doi.Ipsec, protocolId: ProtocolId.Isakmp, spiSize: 16, spis: [spi] })
  }
  return out
}

export interface InformationalOutcome {
  /** The peer deleted these of its inbound SPIs (= our outbound SPIs). */
  readonly deletedOutboundSpis: readonly number[]
  readonly deleteIsakmp: boolean
  readonly notifies: readonly number[]
  /** Error notifies (RFC 2408 §3.14.1: types below 16384) with their SPI. */
  readonly errors: readonly { readonly notifyType: number; readonly protocolId: number; readonly spi: Uint8Array }[]
  /** Status notifies (16384 and up) with SPI and data, e.g. DPD R-U-THERE / R-U-THERE-ACK (RFC 3706 §5.3). */
  readonly status: readonly { readonly notifyType: number; readonly spi: Uint8Array; readonly data: Uint8Array }[]
}

/** Verifies HASH(1) of a decrypted informational message; undefined when it does not verify. */
export function handleInformational(sa: IkeSaV1, msg: InboundV1): InformationalOutcome | undefined {
  const k = sa.keys!
  const first = msg.payloads[0]
  if (!first || first.payload !== 'hash') return undefined
  const want = quickHash1(k.hash, k.a, msg.header.messageId, bytesAfterFirstPayload(msg.bytes, msg))
  if (!constantTimeEqual(want, first.data)) return undefined
  const deleted: number[] = []
  let isakmp = false
  const notifies: number[] = []
  const errors: { notifyType: number; protocolId: number; spi: Uint8Array }[] = []
  const status: { notifyType: number; spi: Uint8Array; data: Uint8Array }[] = []
  for (const p of msg.payloads) {
    if (p.payload === 'delete' && p.protocolId === ProtocolId.IpsecEsp) for (const s of p.spis) deleted.push(((s[0]! << 24) >>> 0) + ((s[1]! << 16) | (s[2]! << 8) | s[3]!))
    if (p.payload === 'delete' && p.protocolId === ProtocolId.Isakmp && p.spis.some((s) => constantTimeEqual(s.subarray(0, 8), sa.ckyI) && constantTimeEqual(s.subarray(8), sa.ckyR))) isakmp = true
    if (p.payload === 'notify') {
      notifies.push(p.notifyType)
      if (isErrorNotify(p.notifyType)) errors.push({ notifyType: p.notifyType, protocolId: p.protocolId, spi: p.spi })
      else status.push({ notifyType: p.notifyType, spi: p.spi, data: p.data })
    }
  }
  return { deletedOutboundSpis: deleted, deleteIsakmp: isakmp, notifies, errors, status }
}

/**
 * Reads an informational message for `sa`. In the clear it is believed only while main mode runs and
 * no keys exist (an error notify ends the attempt, as strongSwan does); afterwards only a
 * HASH(1)-protected message under its own message ID counts. Throws only DecodeError.
 */
export function readInformational(sa: IkeSaV1, header: IsakmpHeader, data: Uint8Array): { readonly drop: string } | { readonly plainError: number } | InformationalOutcome {
  if (!(header.flags & HeaderFlag.Encryption)) {
    if (sa.keys || sa.state !== 'connecting') return { drop: 'informational-plain' }
    const d = decodeMessage(data)
    if (checkMessage(EXCHANGE_RULES.informationalPlain, d.spans.map((s) => s.payloadType), header.flags)) return { drop: 'rule:informationalPlain' }
    const n = d.payloads.find((p) => p.payload === 'notify')
    return n && n.payload === 'notify' && isErrorNotify(n.notifyType) ? { plainError: n.notifyType } : { drop: 'informational-plain' }
  }
  // Before main mode ends it is accepted too once keys exist: a peer refusing our certificate in main mode 5/6
  // answers with a protected notify (HASH(1) under SKEYID_a, IV from the last phase 1 block).
  if (header.messageId === 0 || !sa.keys || !sa.iv) return { drop: 'informational-state' }
  const k = sa.keys!
  const opened = openMessage(data, k.cipher, k.encKey, phase2Iv(k.hash, k.cipher, sa.iv!, header.messageId))
  const msg: InboundV1 = { header, payloads: opened.payloads, spans: opened.spans, bytes: opened.plaintext, end: opened.end }
  const v = checkMessage(EXCHANGE_RULES.informational, msg.spans.map((s) => s.payloadType), header.flags)
  if (v) return { drop: `rule:informational:${v.reason}` }
  return handleInformational(sa, msg) ?? { drop: 'auth:informational' }
}

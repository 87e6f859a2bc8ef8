// Responder-side proposal choice (RFC 2408 §4.2, RFC 2409 §5): walk the initiator's proposals and
// transforms in its order of preference, keep the first the local policy accepts, and answer with that
// one proposal carrying that one transform exactly as received.
import { NotifyType, ProtocolId } from '../constants.js'
import type { IsakmpProposal, IsakmpTransform, SaBody } from '../message/sa.js'
import { DH_GROUPS } from '../crypto/dh.js'
import { IKE_HASHES, ikeCipher } from '../crypto/algorithms.js'
import { EspTransformId, IpsecAuthAlgorithm, OakleyAuth, baseEncapsulation } from '../oakley.js'
import { parseEspTransform, parsePhase1Transform } from './transforms.js'
import type { EspTransform, Phase1Transform } from './transforms.js'

export interface Selected<T> {
  readonly proposal: IsakmpProposal
  /** The peer's transform object, to be echoed unchanged. */
  readonly transform: IsakmpTransform
  readonly parsed: T
}
export interface NoChoice {
  readonly notify: number
  /** Why each transform was passed over, for the log ("p1t2: group 5 not accepted"). */
  readonly reasons: readonly string[]
}

/**
 * Chooses a phase 1 transform. Proposals for another protocol than ISAKMP and transforms that do not
 * parse are skipped with a reason; NO-PROPOSAL-CHOSEN when nothing is left (RFC 2408 §3.14.1).
 */
export function selectPhase1(sa: SaBody, accept: (t: Phase1Transform) => boolean): Selected<Phase1Transform> | NoChoice {
  const reasons: string[] = []
  for (const p of sa.proposals) {
    if (p.protocolId !== ProtocolId.Isakmp) { reasons.push(`p${p.number}: protocol ${p.protocolId}`); continue }
    for (const t of p.transforms) {
      const r = parsePhase1Transform(t)
      if (!r.ok) { reasons.push(`p${p.number}t${t.number}: ${r.reason}`); continue }
      if (!accept(r.value)) { reasons.push(`p${p.number}t${t.number}: ${describePhase1(r.value)} not accepted`); continue }
      return { proposal: p, transform: t, parsed: r.value }
    }
  }
  return { notify: NotifyType.NoProposalChosen, reasons }
}

/**
 * Chooses an ESP proposal for quick mode. Proposal numbers that appear more than once form an AND
 * bundle (RFC 2408 §4.2, e.g. ESP+AH or ESP+IPComp); we negotiate single-ESP proposals only, so
 * bundles are skipped. ESP SPIs must be 4 bytes (RFC 2407 §4.4.4 via RFC 4303 §2.1).
 */
export function selectEsp(sa: SaBody, accept: (t: EspTransform) => boolean): Selected<EspTransform> | NoChoice {
  const reasons: string[] = []
  const count = new Map<number, number>()
  for (const p of sa.proposals) count.set(p.number, (count.get(p.number) ?? 0) + 1)
  for (const p of sa.proposals) {
    if (count.get(p.number)! > 1) { reasons.push(`p${p.number}: bundle`); continue }
    if (p.protocolId !== ProtocolId.IpsecEsp) { reasons.push(`p${p.number}: protocol ${p.protocolId}`); continue }
    if (p.spi.length !== 4) { reasons.push(`p${p.number}: SPI of ${p.spi.length} bytes`); continue }
    for (const t of p.transforms) {
      const r = parseEspTransform(t)
      if (!r.ok) { reasons.push(`p${p.number}t${t.number}: ${r.reason}`); continue }
      if (!accept(r.value)) { reasons.push(`p${p.number}t${t.number}: ${describeEsp(r.value)} not accepted`); continue }
      return { proposal: p, transform: t, parsed: r.value }
    }
  }
  return { notify: NotifyType.NoProposalChosen, reasons }
}

/**
 * The responder's SA: the initiator's DOI and situation, the chosen proposal with only the chosen
 * transform, attributes untouched (RFC 2408 §4.2: the responder returns the selected proposal and
 * transform, it does not alter them). For ESP, `spi` replaces the initiator's SPI with our inbound one.
 */
export function responderSa(sa: SaBody, chosen: Selected<unknown>, spi?: Uint8Array): SaBody {
  return { doi: sa.doi, situation: sa.situation, proposals: [{ ...chosen.proposal, spi: spi ?? chosen.proposal.spi, transforms: [chosen.transform] }] }
}

/** Phase 1 suites the groundwork can carry out: a cipher, hash and group we implement, PSK/RSA/ECDSA auth. */
export function implementedPhase1(t: Phase1Transform): boolean {
  return ikeCipher(t.encryption, t.keyLength) !== undefined && IKE_HASHES[t.hash] !== undefined && DH_GROUPS[t.group] !== undefined &&
    (t.authMethod === OakleyAuth.PreSharedKey || t.authMethod === OakleyAuth.RsaSignatures ||
     t.authMethod === OakleyAuth.EcdsaP256Sha256 || t.authMethod === OakleyAuth.EcdsaP384Sha384 || t.authMethod === OakleyAuth.EcdsaP521Sha512)
}

/**
 * ESP suites the ESP area is meant to carry (issue 4 §1, §3): AES-CBC 128/192/256 or 3DES with
 * HMAC-SHA1 or HMAC-SHA2-256; AES-GCM-16 (RFC 4106) 128/256 with no separate authentication; a known
 * encapsulation mode; PFS only with a group we implement.
 */
export function implementedEsp(t: EspTransform): boolean {
  if (t.encapsulation !== undefined && baseEncapsulation(t.encapsulation) === undefined) return false
  if (t.group !== undefined && DH_GROUPS[t.group] === undefined) return false
  const macOk = t.authAlgorithm === IpsecAuthAlgorithm.HmacSha1 || t.authAlgorithm === IpsecAuthAlgorithm.HmacSha2_256
  switch (t.transformId) {
    case EspTransformId.AesCbc: return (t.keyLength === 128 || t.keyLength === 192 || t.keyLength === 256) && macOk
    case EspTransformId.TripleDes: return t.keyLength === undefined && macOk
    case EspTransformId.AesGcm16: return (t.keyLength === 128 || t.keyLength === 256) && t.authAlgorithm === undefined
    default: return false
  }
}

/** A transform in words for the refusal log: the administrator sees which suite a client offered ("enc 7/128 hash 4 group 31 auth 1"). */
function describePhase1(t: Phase1Transform): string {
  return `enc ${t.encryption}${t.keyLength ? `/${t.keyLength}` : ''} hash ${t.hash} group ${t.group}${DH_GROUPS[t.group] ? '' : ' (unsupported)'} auth ${t.authMethod}`
}
function describeEsp(t: EspTransform): string {
  return `esp ${t.transformId}${t.keyLength ? `/${t.keyLength}` : ''} auth ${t.authAlgorithm ?? '-'}${t.group !== undefined ? ` pfs group ${t.group}` : ''} encap ${t.encapsulation ?? '-'}`
}

// Security Association payload body (RFC 2408 §3.4) with the IPSEC DOI Situation (RFC 2407 §4.2),
// its Proposal (§3.5) and Transform (§3.6) sub-payloads. The generic header of the SA itself is the chain's.
import { ByteReader } from '../../../lib/bytes.js'
import type { ByteWriter } from '../../../lib/bytes.js'
import { DecodeError } from '../../../lib/errors.js'
import { Doi, PayloadType, Situation } from '../constants.js'
import { attributesLength, decodeAttributes, encodeAttributes } from './attributes.js'
import type { IsakmpAttribute } from './attributes.js'

/*  RFC 2408 §3.4 Security Association Payload
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    ! Next Payload  !   RESERVED    !         Payload Length        !
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    !              Domain of Interpretation  (DOI)                  !
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    ~                           Situation                           ~
    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

    RFC 2408 §3.5 Proposal Payload
    ! Next Payload  !   RESERVED    !         Payload Length        !
    !  Proposal #   !  Protocol-Id  !    SPI Size   !# of Transforms!
    ~                        SPI (variable)                         ~

    RFC 2408 §3.6 Transform Payload
    ! Next Payload  !   RESERVED    !         Payload Length        !
    !  Transform #  !  Transform-Id !           RESERVED2           !
    ~                        SA Attributes                          ~
*/

export interface IsakmpTransform {
  readonly number: number
  readonly transformId: number
  readonly attributes: readonly IsakmpAttribute[]
}
export interface IsakmpProposal {
  readonly number: number
  readonly protocolId: number
  /** Usually empty in phase 1 (the cookies name the ISAKMP SA, RFC 2408 §2.5.3); 4 bytes for ESP/AH. */
  readonly spi: Uint8Array
  readonly transforms: readonly IsakmpTransform[]
}
export interface SaBody {
  readonly doi: number
  /** RFC 2407 §4.2 situation bitmap; Gatehouse accepts SIT_IDENTITY_ONLY only. */
  readonly situation: number
  readonly proposals: readonly IsakmpProposal[]
}

/** Bound on proposals and transforms per SA: enough for every client we know (strongSwan sends ~20). */
export const MAX_PROPOSALS = 64
export const MAX_TRANSFORMS = 64

/**
 * Decodes an SA body (after the generic header). Throws DecodeError for a DOI other than IPSEC
 * (field 'sa.doi': answer DOI-NOT-SUPPORTED), for SIT_SECRECY/SIT_INTEGRITY (field 'sa.situation':
 * their labelled-domain fields are not supported; answer SITUATION-NOT-SUPPORTED), for a proposal
 * or transform chain that does not fill its container exactly, for a Next Payload other than
 * 2/0 (proposals) or 3/0 (transforms), and for a "# of Transforms" that disagrees with the chain.
 */
export function decodeSaBody(r: ByteReader): SaBody {
  const doi = r.u32('sa.doi')
  if (doi !== Doi.Ipsec) throw new DecodeError('sa.doi', r.offset - 4, `DOI ${doi} not supported`)
  const situation = r.u32('sa.situation')
  if (situation & (Situation.Secrecy | Situation.Integrity)) throw new DecodeError('sa.situation', r.offset - 4, `situation ${situation} not supported`)
  const proposals: IsakmpProposal[] = []
  let next: number = PayloadType.Proposal
  while (next !== PayloadType.None) {
    if (next !== PayloadType.Proposal) throw new DecodeError('proposal.nextPayload', r.offset, `${next} inside an SA`)
    if (proposals.length >= MAX_PROPOSALS) throw new DecodeError('sa.proposals', r.offset, 'too many proposals')
    next = r.u8('proposal.nextPayload')
    r.u8('proposal.reserved')
    const len = r.u16('proposal.length')
    if (len < 8) throw new DecodeError('proposal.length', r.offset - 2, `${len} below 8`)
    const pr = r.sub(len - 4, 'proposal.body')
    proposals.push(decodeProposalBody(pr))
  }
  if (r.remaining !== 0) throw new DecodeError('sa.proposals', r.offset, `${r.remaining} bytes after the last proposal`)
  return { doi, situation, proposals }
}

function decodeProposalBody(r: ByteReader): IsakmpProposal {
  const number = r.u8('proposal.number')
  const protocolId = r.u8('proposal.protocolId')
  const spiSize = r.u8('proposal.spiSize')
  const count = r.u8('proposal.transformCount')
  const spi = new Uint8Array(r.bytes(spiSize, 'proposal.spi'))
  const transforms: IsakmpTransform[] = []
  let next: number = count > 0 ? PayloadType.Transform : PayloadType.None
  while (next !== PayloadType.None) {
    if (next !== PayloadType.Transform) throw new DecodeError('transform.nextPayload', r.offset, `${next} inside a proposal`)
    if (transforms.length >= MAX_TRANSFORMS) throw new DecodeError('proposal.transforms', r.offset, 'too many transforms')
    next = r.u8('transform.nextPayload')
    r.u8('transform.reserved')
    const len = r.u16('transform.length')
    if (len < 8) throw new DecodeError('transform.length', r.offset - 2, `${len} below 8`)
    const tr = r.sub(len - 4, 'transform.body')
    const tnum = tr.u8('transform.number')
    const transformId = tr.u8('transform.id')
    tr.u16('transform.reserved2')
    transforms.push({ number: tnum, transformId, attributes: decodeAttributes(tr, 'transform.attribute') })
  }
  if (transforms.length !== count) throw new DecodeError('proposal.transformCount', 3, `says ${count}, chain has ${transforms.length}`)
  if (r.remaining !== 0) throw new DecodeError('proposal.transforms', r.offset, `${r.remaining} bytes after the last transform`)
  return { number, protocolId, spi, transforms }
}

function transformLength(t: IsakmpTransform): number { return 8 + attributesLength(t.attributes) }
function proposalLength(p: IsakmpProposal): number {
  let n = 8 + p.spi.length
  for (const t of p.transforms) n += transformLength(t)
  return n
}
/** Bytes of the SA body (without the SA's generic header). */
export function saBodyLength(sa: SaBody): number {
  let n = 8
  for (const p of sa.proposals) n += proposalLength(p)
  return n
}

/** Writes the SA body; proposal/transform Next Payload, lengths, SPI size and counts are derived. Throws RangeError for no proposals. */
export function encodeSaBody(w: ByteWriter, sa: SaBody): void {
  // RFC 2408 §3.4: an SA carries proposals; an empty list could not be decoded again.
  if (sa.proposals.length === 0) throw new RangeError('an SA payload needs at least one proposal')
  w.u32(sa.doi).u32(sa.situation)
  sa.proposals.forEach((p, i) => {
    const len = proposalLength(p)
    if (len > 0xffff || p.spi.length > 255 || p.transforms.length > 255) throw new RangeError('proposal too large')
    w.u8(i === sa.proposals.length - 1 ? PayloadType.None : PayloadType.Proposal).u8(0).u16(len)
    w.u8(p.number).u8(p.protocolId).u8(p.spi.length).u8(p.transforms.length).bytes(p.spi)
    p.transforms.forEach((t, j) => {
      w.u8(j === p.transforms.length - 1 ? PayloadType.None : PayloadType.Transform).u8(0).u16(transformLength(t))
      w.u8(t.number).u8(t.transformId).u16(0)
      encodeAttributes(w, t.attributes)
    })
  })
}

/** Decodes a standalone SA body from bytes (e.g. a stored SAi_b). */
export function decodeSaBodyBytes(b: Uint8Array): SaBody { return decodeSaBody(new ByteReader(b)) }

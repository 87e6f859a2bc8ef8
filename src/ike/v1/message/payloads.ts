// ISAKMP payloads as a table (DESIGN.md §3): KE §3.7, ID §3.8 + RFC 2407 §4.6.2, CERT §3.9, CR §3.10,
// HASH §3.11, SIG §3.12, NONCE §3.13, N §3.14 + RFC 2407 §4.6.3, D §3.15, VID §3.16 (RFC 2408), NAT-D and
// NAT-OA (RFC 3947 §3.2, §5.2, with the draft numbers 130/131), the Cisco/Microsoft IKE fragment (132);
// anything else is kept raw.
import type { ByteReader, ByteWriter } from '../../../lib/bytes.js'
import { DecodeError } from '../../../lib/errors.js'
import { PayloadType } from '../constants.js'
import { decodeSaBody, encodeSaBody, saBodyLength } from './sa.js'
import type { IsakmpProposal } from './sa.js'

/*  RFC 2408 §3.2 Generic Payload Header (before every body below)
    ! Next Payload  !   RESERVED    !         Payload Length        !

    §3.7 KE / §3.11 HASH / §3.12 SIG / §3.13 NONCE / §3.16 VID / RFC 3947 §3.2 NAT-D: data only
    ~                  Key Exchange Data / Hash Data / ...          ~

    §3.8 + RFC 2407 §4.6.2 Identification
    !   ID Type     !  Protocol ID  !             Port              !
    ~                     Identification Data                       ~

    §3.9 Certificate                    §3.10 Certificate Request
    ! Cert Encoding !  Certificate Data ~   ! Cert. Type !  Certificate Authority ~

    §3.14 Notification
    !              Domain of Interpretation  (DOI)                  !
    !  Protocol-ID  !   SPI Size    !      Notify Message Type      !
    ~                Security Parameter Index (SPI)                 ~
    ~                       Notification Data                       ~

    §3.15 Delete
    !              Domain of Interpretation  (DOI)                  !
    !  Protocol-Id  !   SPI Size    !           # of SPIs           !
    ~               Security Parameter Index(es) (SPI)              ~

    RFC 3947 §5.2 NAT-OA
    !   ID Type     !   RESERVED    !            RESERVED           !
    ~         IPv4 (4 octets) or IPv6 address (16 octets)           ~

    IKE fragment (type 132; Cisco/Microsoft, no RFC; layout as libreswan's struct isakmp_ikefrag)
    !          Fragment ID          !  Fragment #   !     Flags     !   Flags: LAST_FRAGMENT = 0x01
    ~          Fragment Data (a slice of the whole original message)~
*/

export type IsakmpPayload =
  | { readonly payload: 'sa'; readonly doi: number; readonly situation: number; readonly proposals: readonly IsakmpProposal[] }
  | { readonly payload: 'ke'; readonly data: Uint8Array }
  | { readonly payload: 'id'; readonly idType: number; readonly protocolId: number; readonly port: number; readonly data: Uint8Array }
  | { readonly payload: 'cert'; readonly encoding: number; readonly data: Uint8Array }
  | { readonly payload: 'cr'; readonly encoding: number; readonly authority: Uint8Array }
  | { readonly payload: 'hash'; readonly data: Uint8Array }
  | { readonly payload: 'sig'; readonly data: Uint8Array }
  | { readonly payload: 'nonce'; readonly data: Uint8Array }
  | { readonly payload: 'notify'; readonly doi: number; readonly protocolId: number; readonly spi: Uint8Array; readonly notifyType: number; readonly data: Uint8Array }
  | { readonly payload: 'delete'; readonly doi: number; readonly protocolId: number; readonly spiSize: number; readonly spis: readonly Uint8Array[] }
  | { readonly payload: 'vendorId'; readonly data: Uint8Array }
  | { readonly payload: 'natD'; readonly draft: boolean; readonly data: Uint8Array }
  | { readonly payload: 'natOa'; readonly draft: boolean; readonly idType: number; readonly address: Uint8Array }
  /** Fragment number counts from 1; the fragments' data concatenated is the original datagram. */
  | { readonly payload: 'fragment'; readonly fragmentId: number; readonly number: number; readonly flags: number; readonly data: Uint8Array }
  /** Any other type (Proposal/Transform outside an SA included), body kept for INVALID-PAYLOAD-TYPE handling. */
  | { readonly payload: 'unknown'; readonly payloadType: number; readonly body: Uint8Array }

export type PayloadName = IsakmpPayload['payload']
type Of<N extends PayloadName> = Extract<IsakmpPayload, { payload: N }>

interface PayloadSpec<N extends PayloadName> {
  readonly name: N
  /** Whole payload length bounds, generic header included. */
  readonly minLength: number
  /** Decodes the body (the reader spans exactly Payload Length - 4 bytes). Byte fields are copies. */
  readonly decode: (r: ByteReader, type: number) => Of<N>
  readonly encode: (p: Of<N>, w: ByteWriter) => void
  readonly bodyLength: (p: Of<N>) => number
}

const copy = (b: Uint8Array): Uint8Array => new Uint8Array(b)

function dataPayload<N extends 'ke' | 'hash' | 'sig' | 'nonce' | 'vendorId'>(name: N): PayloadSpec<N> {
  return {
    name, minLength: 4,
    decode: (r) => ({ payload: name, data: copy(r.rest()) }) as Of<N>,
    encode: (p, w) => { w.bytes((p as { data: Uint8Array }).data) },
    bodyLength: (p) => (p as { data: Uint8Array }).data.length,
  }
}

const sa: PayloadSpec<'sa'> = {
  name: 'sa', minLength: 12,
  decode: (r) => ({ payload: 'sa', ...decodeSaBody(r) }),
  encode: (p, w) => encodeSaBody(w, p),
  bodyLength: (p) => saBodyLength(p),
}
const id: PayloadSpec<'id'> = {
  name: 'id', minLength: 8,
  decode: (r) => ({ payload: 'id', idType: r.u8('id.type'), protocolId: r.u8('id.protocolId'), port: r.u16('id.port'), data: copy(r.rest()) }),
  encode: (p, w) => { w.u8(p.idType).u8(p.protocolId).u16(p.port).bytes(p.data) },
  bodyLength: (p) => 4 + p.data.length,
}
const cert: PayloadSpec<'cert'> = {
  name: 'cert', minLength: 5,
  decode: (r) => ({ payload: 'cert', encoding: r.u8('cert.encoding'), data: copy(r.rest()) }),
  encode: (p, w) => { w.u8(p.encoding).bytes(p.data) },
  bodyLength: (p) => 1 + p.data.length,
}
const cr: PayloadSpec<'cr'> = {
  name: 'cr', minLength: 5,
  decode: (r) => ({ payload: 'cr', encoding: r.u8('cr.encoding'), authority: copy(r.rest()) }),
  encode: (p, w) => { w.u8(p.encoding).bytes(p.authority) },
  bodyLength: (p) => 1 + p.authority.length,
}
const notify: PayloadSpec<'notify'> = {
  name: 'notify', minLength: 12,
  decode: (r) => {
    const doi = r.u32('notify.doi'), protocolId = r.u8('notify.protocolId'), spiSize = r.u8('notify.spiSize'), notifyType = r.u16('notify.type')
    const spi = copy(r.bytes(spiSize, 'notify.spi'))
    return { payload: 'notify', doi, protocolId, spi, notifyType, data: copy(r.rest()) }
  },
  encode: (p, w) => {
    if (p.spi.length > 255) throw new RangeError('notify SPI too long')
    w.u32(p.doi).u8(p.protocolId).u8(p.spi.length).u16(p.notifyType).bytes(p.spi).bytes(p.data)
  },
  bodyLength: (p) => 8 + p.spi.length + p.data.length,
}
const del: PayloadSpec<'delete'> = {
  name: 'delete', minLength: 12,
  decode: (r) => {
    const doi = r.u32('delete.doi'), protocolId = r.u8('delete.protocolId'), spiSize = r.u8('delete.spiSize'), count = r.u16('delete.count')
    // The count is bounded by the payload: a hostile count cannot make us allocate past the bytes we hold.
    if (spiSize * count !== r.remaining) throw new DecodeError('delete.spis', r.offset, `${count} SPIs of ${spiSize} bytes in ${r.remaining} bytes`)
    const spis: Uint8Array[] = []
    for (let i = 0; i < count; i++) spis.push(copy(r.bytes(spiSize, 'delete.spi')))
    return { payload: 'delete', doi, protocolId, spiSize, spis }
  },
  encode: (p, w) => {
    if (p.spis.some((s) => s.length !== p.spiSize)) throw new RangeError('delete: every SPI must be spiSize bytes')
    w.u32(p.doi).u8(p.protocolId).u8(p.spiSize).u16(p.spis.length)
    for (const s of p.spis) w.bytes(s)
  },
  bodyLength: (p) => 8 + p.spiSize * p.spis.length,
}
const natD: PayloadSpec<'natD'> = {
  name: 'natD', minLength: 4,
  decode: (r, type) => ({ payload: 'natD', draft: type === PayloadType.NatDDraft, data: copy(r.rest()) }),
  encode: (p, w) => { w.bytes(p.data) },
  bodyLength: (p) => p.data.length,
}
const natOa: PayloadSpec<'natOa'> = {
  name: 'natOa', minLength: 8,
  decode: (r, type) => {
    const idType = r.u8('natOa.idType')
    r.u8('natOa.reserved'); r.u16('natOa.reserved')
    return { payload: 'natOa', draft: type === PayloadType.NatOaDraft, idType, address: copy(r.rest()) }
  },
  encode: (p, w) => { w.u8(p.idType).u8(0).u16(0).bytes(p.address) },
  bodyLength: (p) => 4 + p.address.length,
}

const fragment: PayloadSpec<'fragment'> = {
  name: 'fragment', minLength: 8,
  decode: (r) => ({ payload: 'fragment', fragmentId: r.u16('fragment.id'), number: r.u8('fragment.number'), flags: r.u8('fragment.flags'), data: copy(r.rest()) }),
  encode: (p, w) => { w.u16(p.fragmentId).u8(p.number).u8(p.flags).bytes(p.data) },
  bodyLength: (p) => 4 + p.data.length,
}
/** Fragment flag: this is the last fragment. */
export const FRAGMENT_LAST = 0x01

/** A table entry with the payload kind erased: the table is indexed by wire type, not by kind. */
export interface AnyPayloadSpec {
  readonly name: PayloadName
  readonly minLength: number
  readonly decode: (r: ByteReader, type: number) => IsakmpPayload
  readonly encode: (p: IsakmpPayload, w: ByteWriter) => void
  readonly bodyLength: (p: IsakmpPayload) => number
}
/** Erases the kind; sound because encode/bodyLength are only called with payloads whose type maps to this entry. */
function entry<N extends PayloadName>(s: PayloadSpec<N>): AnyPayloadSpec {
  return s as unknown as AnyPayloadSpec
}

/** The payload table keyed by Next Payload type. Types absent here decode as 'unknown'. */
export const PAYLOADS: Readonly<Record<number, AnyPayloadSpec>> = {
  [PayloadType.SecurityAssociation]: entry(sa),
  [PayloadType.KeyExchange]: entry(dataPayload('ke')),
  [PayloadType.Identification]: entry(id),
  [PayloadType.Certificate]: entry(cert),
  [PayloadType.CertificateRequest]: entry(cr),
  [PayloadType.Hash]: entry(dataPayload('hash')),
  [PayloadType.Signature]: entry(dataPayload('sig')),
  [PayloadType.Nonce]: entry(dataPayload('nonce')),
  [PayloadType.Notification]: entry(notify),
  [PayloadType.Delete]: entry(del),
  [PayloadType.VendorId]: entry(dataPayload('vendorId')),
  [PayloadType.NatD]: entry(natD),
  [PayloadType.NatDDraft]: entry(natD),
  [PayloadType.NatOa]: entry(natOa),
  [PayloadType.NatOaDraft]: entry(natOa),
  [PayloadType.IkeFragment]: entry(fragment),
}

const TYPE_OF: Readonly<Record<Exclude<PayloadName, 'unknown' | 'natD' | 'natOa'>, number>> = {
  sa: PayloadType.SecurityAssociation, ke: PayloadType.KeyExchange, id: PayloadType.Identification,
  cert: PayloadType.Certificate, cr: PayloadType.CertificateRequest, hash: PayloadType.Hash,
  sig: PayloadType.Signature, nonce: PayloadType.Nonce, notify: PayloadType.Notification,
  delete: PayloadType.Delete, vendorId: PayloadType.VendorId, fragment: PayloadType.IkeFragment,
}

/** The Next Payload number that announces `p` (NAT-D/NAT-OA by their draft flag). */
export function payloadTypeOf(p: IsakmpPayload): number {
  switch (p.payload) {
    case 'unknown': return p.payloadType
    case 'natD': return p.draft ? PayloadType.NatDDraft : PayloadType.NatD
    case 'natOa': return p.draft ? PayloadType.NatOaDraft : PayloadType.NatOa
    default: return TYPE_OF[p.payload]
  }
}

/** Body length of `p` (without its 4-byte generic header). */
export function payloadBodyLength(p: IsakmpPayload): number {
  if (p.payload === 'unknown') return p.body.length
  return PAYLOADS[payloadTypeOf(p)]!.bodyLength(p)
}

/** Writes the body of `p` (no generic header). */
export function encodePayloadBody(w: ByteWriter, p: IsakmpPayload): void {
  if (p.payload === 'unknown') { w.bytes(p.body); return }
  PAYLOADS[payloadTypeOf(p)]!.encode(p, w)
}

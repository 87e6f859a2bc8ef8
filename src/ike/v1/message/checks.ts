// Per-payload MUSTs checked after decoding (DESIGN.md §3: structure first, rules second): nonce length
// (RFC 2409 §5), identification data per ID type (RFC 2407 §4.6.2), NAT-OA address (RFC 3947 §5.2),
// Delete/Notify SPI sizes (RFC 2408 §3.14, §3.15), and the header checks of RFC 2408 §5.2.
import { ExchangeType, HeaderFlag, IdType, NotifyType, ProtocolId } from '../constants.js'
import type { IsakmpHeader } from './header.js'
import type { IsakmpPayload } from './payloads.js'

export interface PayloadFault { readonly field: string; readonly detail: string; readonly notify: number }

/** Byte length of the Identification Data an address-typed ID must carry (RFC 2407 §4.6.2.2–§4.6.2.9). */
export const ID_DATA_LENGTH: Readonly<Partial<Record<number, number>>> = {
  [IdType.Ipv4Addr]: 4, [IdType.Ipv4AddrSubnet]: 8, [IdType.Ipv4AddrRange]: 8,
  [IdType.Ipv6Addr]: 16, [IdType.Ipv6AddrSubnet]: 32, [IdType.Ipv6AddrRange]: 32,
}

/** Returns the first MUST that `p` breaks, or undefined. */
export function checkPayload(p: IsakmpPayload): PayloadFault | undefined {
  switch (p.payload) {
    case 'nonce':
      // RFC 2409 §5: "The length of nonce payload MUST be between 8 and 256 bytes inclusive."
      if (p.data.length < 8 || p.data.length > 256) return { field: 'nonce', detail: `${p.data.length} bytes, not 8..256`, notify: NotifyType.PayloadMalformed }
      return undefined
    case 'id': {
      const want = ID_DATA_LENGTH[p.idType]
      if (want !== undefined && p.data.length !== want) return { field: 'id.data', detail: `type ${p.idType} needs ${want} bytes, got ${p.data.length}`, notify: NotifyType.InvalidIdInformation }
      if (want === undefined && p.data.length === 0) return { field: 'id.data', detail: 'empty identification', notify: NotifyType.InvalidIdInformation }
      if (p.idType < IdType.Ipv4Addr || p.idType > IdType.KeyId) return { field: 'id.type', detail: `unknown ID type ${p.idType}`, notify: NotifyType.InvalidIdInformation }
      return undefined
    }
    case 'natOa': {
      const want = p.idType === IdType.Ipv4Addr ? 4 : p.idType === IdType.Ipv6Addr ? 16 : undefined
      // RFC 3947 §5.2: the ID Type is ID_IPV4_ADDR or ID_IPV6_ADDR and the address fills the rest.
      if (want === undefined) return { field: 'natOa.idType', detail: `ID type ${p.idType}`, notify: NotifyType.PayloadMalformed }
      if (p.address.length !== want) return { field: 'natOa.address', detail: `${p.address.length} bytes for type ${p.idType}`, notify: NotifyType.PayloadMalformed }
      return undefined
    }
    case 'delete':
      // RFC 2408 §3.15: an ISAKMP SA is deleted by its cookie pair (16 bytes); ESP/AH SPIs are 4.
      if (p.protocolId === ProtocolId.Isakmp && p.spiSize !== 16) return { field: 'delete.spiSize', detail: `${p.spiSize} for ISAKMP`, notify: NotifyType.InvalidSpi }
      if ((p.protocolId === ProtocolId.IpsecEsp || p.protocolId === ProtocolId.IpsecAh) && p.spiSize !== 4) return { field: 'delete.spiSize', detail: `${p.spiSize} for protocol ${p.protocolId}`, notify: NotifyType.InvalidSpi }
      if (p.spis.length === 0) return { field: 'delete.count', detail: 'no SPI', notify: NotifyType.PayloadMalformed }
      return undefined
    case 'notify':
      if ((p.protocolId === ProtocolId.IpsecEsp || p.protocolId === ProtocolId.IpsecAh) && p.spi.length !== 4 && p.spi.length !== 0) return { field: 'notify.spi', detail: `${p.spi.length}-byte SPI`, notify: NotifyType.InvalidSpi }
      return undefined
    default:
      return undefined
  }
}

const EXCHANGES_WE_SPEAK = new Set<number>([ExchangeType.IdentityProtection, ExchangeType.Aggressive, ExchangeType.Informational, ExchangeType.Transaction, ExchangeType.QuickMode])
const KNOWN_FLAGS = HeaderFlag.Encryption | HeaderFlag.Commit | HeaderFlag.AuthenticationOnly

/**
 * RFC 2408 §5.2 header processing, in its order: a zero initiator cookie is INVALID-COOKIE; a major
 * version above 1 is INVALID-MAJOR-VERSION (a higher minor version of major 1 is tolerated, as
 * strongSwan does); an exchange type we do not implement is INVALID-EXCHANGE-TYPE; unknown flag bits
 * are INVALID-FLAGS. Returns the first fault or undefined. Before an ISAKMP SA exists such faults are
 * only counted (DESIGN.md §5: unauthenticated input is dropped silently).
 */
export function checkHeader(h: IsakmpHeader): PayloadFault | undefined {
  if (h.initiatorCookie.every((b) => b === 0)) return { field: 'header.initiatorCookie', detail: 'zero', notify: NotifyType.InvalidCookie }
  // Major 2 is IKEv2 (RFC 7296), major 0 does not exist: both are another protocol to us.
  if (h.version >> 4 !== 1) return { field: 'header.version', detail: `major ${h.version >> 4}`, notify: NotifyType.InvalidMajorVersion }
  if (!EXCHANGES_WE_SPEAK.has(h.exchangeType)) return { field: 'header.exchangeType', detail: `${h.exchangeType}`, notify: NotifyType.InvalidExchangeType }
  if (h.flags & ~KNOWN_FLAGS) return { field: 'header.flags', detail: `0x${h.flags.toString(16)}`, notify: NotifyType.InvalidFlags }
  return undefined
}

// LCP Configuration Options: RFC 1661 §6 (MRU 1, Authentication-Protocol 3, Magic-Number 5,
// PFC 7, ACFC 8); everything else (RFC 1570 Callback 13, RFC 1990 MRRU 17 / Short Seq 18 /
// Endpoint Discriminator 19, RFC 2125 Link Discriminator 23, ...) is Configure-Rejected.
import type { OptionTable } from '../fsm/packet.js'

export const LcpOption = {
  MRU: 1,
  ACCM: 2, // RFC 1662 §7.1: meaningless without HDLC async framing; rejected
  AuthenticationProtocol: 3,
  QualityProtocol: 4,
  MagicNumber: 5,
  PFC: 7,
  ACFC: 8,
  Callback: 13,
  MRRU: 17,
  ShortSequenceNumber: 18,
  EndpointDiscriminator: 19,
  LinkDiscriminator: 23,
} as const

/** The options we negotiate; lengths are Type+Length+Data (§6.1, §6.2, §6.4, §6.5, §6.6). */
export const LCP_OPTIONS: OptionTable = {
  [LcpOption.MRU]: { name: 'MRU', minLength: 4, maxLength: 4 },
  [LcpOption.AuthenticationProtocol]: { name: 'Authentication-Protocol', minLength: 4, maxLength: 255 },
  [LcpOption.MagicNumber]: { name: 'Magic-Number', minLength: 6, maxLength: 6 },
  [LcpOption.PFC]: { name: 'Protocol-Field-Compression', minLength: 2, maxLength: 2 },
  [LcpOption.ACFC]: { name: 'Address-and-Control-Field-Compression', minLength: 2, maxLength: 2 },
}

/** RFC 1661 §6.1: "the peer MAY ... send packets up to 1500 octets" by default. */
export const DEFAULT_MRU = 1500
/** Smallest MRU we agree to (pppd's MINMRU). */
export const MIN_MRU = 128

// Authentication-Protocol option data (c023 | c223 05 | c223 81 | c227) is the auth engineers' codec.
export { encodeAuthOption, decodeAuthOption } from '../auth/option.js'

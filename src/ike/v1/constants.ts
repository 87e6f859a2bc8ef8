// ISAKMP numbers: payload types, exchange types and flags (RFC 2408 §3.1), notify message types
// (RFC 2408 §3.14.1, RFC 2407 §4.6.3, RFC 3706), identification types (RFC 2407 §4.6.2.1), protocol
// IDs (RFC 2407 §4.4.1), certificate encodings (RFC 2408 §3.9) and the NAT-T payloads (RFC 3947 §3, §5).

/** RFC 2408 §3.1 Next Payload Types; NAT-D/NAT-OA from RFC 3947 §3.2/§5.2 (and the draft numbers 130/131). */
export const PayloadType = {
  None: 0,
  SecurityAssociation: 1,
  Proposal: 2,
  Transform: 3,
  KeyExchange: 4,
  Identification: 5,
  Certificate: 6,
  CertificateRequest: 7,
  Hash: 8,
  Signature: 9,
  Nonce: 10,
  Notification: 11,
  Delete: 12,
  VendorId: 13,
  NatD: 20,
  NatOa: 21,
  /** draft-ietf-ipsec-nat-t-ike-02/03 numbers still sent by older clients (RFC 3947 §3 replaced them). */
  NatDDraft: 130,
  NatOaDraft: 131,
  /** Cisco/Microsoft IKEv1 fragmentation payload: handled by the task manager, never by a task. */
  IkeFragment: 132,
} as const

/** RFC 2408 §3.1 Exchange Types, RFC 2409 §5.5 (Quick Mode 32) and §6.2 (New Group Mode 33). */
export const ExchangeType = {
  None: 0,
  Base: 1,
  /** RFC 2409 Main Mode. */
  IdentityProtection: 2,
  AuthenticationOnly: 3,
  /** RFC 2409 Aggressive Mode. */
  Aggressive: 4,
  Informational: 5,
  /** draft-ietf-ipsec-isakmp-mode-cfg (XAUTH / Mode Config); not in an RFC. */
  Transaction: 6,
  QuickMode: 32,
  NewGroupMode: 33,
} as const

/** RFC 2408 §3.1 Flags. */
export const HeaderFlag = { Encryption: 0x01, Commit: 0x02, AuthenticationOnly: 0x04 } as const

/** RFC 2408 §3.1: "Implementations ... MUST set the Major Version to 1 ... MUST set the Minor Version to 0". */
export const ISAKMP_VERSION = 0x10
export const ISAKMP_HEADER_LENGTH = 28
export const GENERIC_HEADER_LENGTH = 4
export const COOKIE_LENGTH = 8

/** RFC 2407 §4.2 IPSEC DOI; 0 is the generic ISAKMP DOI (RFC 2408 §3.4, used by phase 1 Notify/Delete). */
export const Doi = { Isakmp: 0, Ipsec: 1 } as const
/** RFC 2407 §4.2 Situation bits. */
export const Situation = { IdentityOnly: 0x01, Secrecy: 0x02, Integrity: 0x04 } as const

/** RFC 2407 §4.4.1 Security Protocol Identifiers. */
export const ProtocolId = { Isakmp: 1, IpsecAh: 2, IpsecEsp: 3, IpComp: 4 } as const

/** RFC 2407 §4.6.2.1 Identification Type Values; RFC 3947 §5.2 reuses 1 and 5 for NAT-OA. */
export const IdType = {
  Ipv4Addr: 1,
  Fqdn: 2,
  UserFqdn: 3,
  Ipv4AddrSubnet: 4,
  Ipv6Addr: 5,
  Ipv6AddrSubnet: 6,
  Ipv4AddrRange: 7,
  Ipv6AddrRange: 8,
  DerAsn1Dn: 9,
  DerAsn1Gn: 10,
  KeyId: 11,
} as const

/** RFC 2408 §3.9 Certificate Type (encoding). */
export const CertEncoding = {
  None: 0,
  Pkcs7: 1,
  Pgp: 2,
  DnsSignedKey: 3,
  X509Signature: 4,
  X509KeyExchange: 5,
  Kerberos: 6,
  Crl: 7,
  Arl: 8,
  Spki: 9,
  X509Attribute: 10,
} as const

/** RFC 2408 §3.14.1 Notify Message Types (errors 1–30, status 16384), RFC 2407 §4.6.3, RFC 3706 §5. */
export const NotifyType = {
  InvalidPayloadType: 1,
  DoiNotSupported: 2,
  SituationNotSupported: 3,
  InvalidCookie: 4,
  InvalidMajorVersion: 5,
  InvalidMinorVersion: 6,
  InvalidExchangeType: 7,
  InvalidFlags: 8,
  InvalidMessageId: 9,
  InvalidProtocolId: 10,
  InvalidSpi: 11,
  InvalidTransformId: 12,
  AttributesNotSupported: 13,
  NoProposalChosen: 14,
  BadProposalSyntax: 15,
  PayloadMalformed: 16,
  InvalidKeyInformation: 17,
  InvalidIdInformation: 18,
  InvalidCertEncoding: 19,
  InvalidCertificate: 20,
  CertTypeUnsupported: 21,
  InvalidCertAuthority: 22,
  InvalidHashInformation: 23,
  AuthenticationFailed: 24,
  InvalidSignature: 25,
  AddressNotification: 26,
  NotifySaLifetime: 27,
  CertificateUnavailable: 28,
  UnsupportedExchangeType: 29,
  UnequalPayloadLengths: 30,
  Connected: 16384,
  /** RFC 2407 §4.6.3.1 */
  ResponderLifetime: 24576,
  /** RFC 2407 §4.6.3.2 */
  ReplayStatus: 24577,
  /** RFC 2407 §4.6.3.3 */
  InitialContact: 24578,
  /** RFC 3706 §5 (Dead Peer Detection) */
  RUThere: 36136,
  RUThereAck: 36137,
} as const

/** RFC 2408 §3.14.1: types below 8192 are errors; 8192–16383 private errors; 16384 and up are status. */
export function isErrorNotify(type: number): boolean { return type < 16384 }

// Phase 1 (Oakley) attribute classes and values (RFC 2409 Appendix A, RFC 3602, RFC 4754, RFC 4868,
// RFC 5903) and the IPsec DOI SA attributes for phase 2 (RFC 2407 §4.4.4, §4.5; RFC 3947 §5.1; RFC 4106).

/** RFC 2409 Appendix A attribute classes; B = basic (TV), V = variable (TLV). */
export const OakleyAttr = {
  EncryptionAlgorithm: 1,
  HashAlgorithm: 2,
  AuthenticationMethod: 3,
  GroupDescription: 4,
  GroupType: 5,
  GroupPrime: 6,
  GroupGeneratorOne: 7,
  GroupGeneratorTwo: 8,
  GroupCurveA: 9,
  GroupCurveB: 10,
  LifeType: 11,
  /** V: may arrive as TV (fits 16 bits) or TLV (RFC 2409 Appendix A "Life Duration ... V"). */
  LifeDuration: 12,
  Prf: 13,
  /** RFC 2409 App. A; RFC 3602 §5: AES "MUST" carry it (128, 192, 256). */
  KeyLength: 14,
  FieldSize: 15,
  GroupOrder: 16,
} as const

/** RFC 2409 Appendix A Encryption Algorithm; AES-CBC 7 from RFC 3602 §5. */
export const OakleyEncryption = { DesCbc: 1, Idea: 2, Blowfish: 3, Rc5: 4, TripleDesCbc: 5, Cast: 6, AesCbc: 7, CamelliaCbc: 8 } as const

/** RFC 2409 Appendix A Hash Algorithm; SHA2 values from RFC 4868 §2.3 (IANA registry). */
export const OakleyHash = { Md5: 1, Sha1: 2, Tiger: 3, Sha2_256: 4, Sha2_384: 5, Sha2_512: 6 } as const

/**
 * RFC 2409 Appendix A Authentication Method; ECDSA 9/10/11 from RFC 4754 §4. XAUTH and hybrid values are
 * from draft-ietf-ipsec-isakmp-xauth / draft-ietf-ipsec-isakmp-hybrid-auth (never RFCs, but every
 * Cisco-style client sends them): an XAUTH method authenticates the IKE SA as its base method does, then
 * runs a Transaction exchange (type 6) for the user. Recognised here so a proposal can name them.
 */
export const OakleyAuth = {
  PreSharedKey: 1,
  DssSignatures: 2,
  RsaSignatures: 3,
  RsaEncryption: 4,
  RsaRevisedEncryption: 5,
  EcdsaP256Sha256: 9,
  EcdsaP384Sha384: 10,
  EcdsaP521Sha512: 11,
  HybridInitRsa: 64221,
  HybridRespRsa: 64222,
  XauthInitPreShared: 65001,
  XauthRespPreShared: 65002,
  XauthInitRsa: 65005,
  XauthRespRsa: 65006,
} as const

/** RFC 2409 §6 (1, 2), RFC 3526 (5, 14–18), RFC 5903 §5 (19–21). */
export const OakleyGroup = { Modp768: 1, Modp1024: 2, Modp1536: 5, Modp2048: 14, Modp3072: 15, Modp4096: 16, Ecp256: 19, Ecp384: 20, Ecp521: 21, Curve25519: 31 } as const

/** RFC 2409 Appendix A Life Type (shared numbering with RFC 2407 §4.5 SA Life Type). */
export const LifeType = { Seconds: 1, Kilobytes: 2 } as const

/** RFC 2407 §4.4.2 ISAKMP transform identifier: the only one for phase 1 proposals. */
export const IsakmpTransformId = { KeyIke: 1 } as const

/** RFC 2407 §4.4.4 IPSEC ESP Transform Identifiers; AES 12 (RFC 3602 §5), AES-GCM 18–20 (RFC 4106 §8.1). */
export const EspTransformId = { Des: 2, TripleDes: 3, Null: 11, AesCbc: 12, AesGcm8: 18, AesGcm12: 19, AesGcm16: 20 } as const

/** RFC 2407 §4.5 IPSEC Security Association Attributes (class values). */
export const IpsecAttr = {
  SaLifeType: 1,
  SaLifeDuration: 2,
  GroupDescription: 3,
  EncapsulationMode: 4,
  AuthenticationAlgorithm: 5,
  KeyLength: 6,
  KeyRounds: 7,
  CompressDictionarySize: 8,
  CompressPrivateAlgorithm: 9,
} as const

/**
 * RFC 2407 §4.5 Encapsulation Mode 1/2; RFC 3947 §5.1 UDP-Encapsulated-Tunnel 3 / -Transport 4; the
 * draft-ietf-ipsec-nat-t-ike-0x values 61443/61444 that older Windows and macOS clients still send.
 */
export const EncapsulationMode = {
  Tunnel: 1,
  Transport: 2,
  UdpTunnel: 3,
  UdpTransport: 4,
  UdpTunnelDraft: 61443,
  UdpTransportDraft: 61444,
} as const

/** RFC 2407 §4.5 Authentication Algorithm; SHA2 values from RFC 4868 §2.3. */
export const IpsecAuthAlgorithm = { HmacMd5: 1, HmacSha1: 2, DesMac: 3, Kpdk: 4, HmacSha2_256: 5, HmacSha2_384: 6, HmacSha2_512: 7 } as const

/** True for the four UDP-encapsulated modes (RFC 3947 and draft numbering). */
export function isUdpEncapsulated(mode: number): boolean {
  return mode === EncapsulationMode.UdpTunnel || mode === EncapsulationMode.UdpTransport ||
    mode === EncapsulationMode.UdpTunnelDraft || mode === EncapsulationMode.UdpTransportDraft
}
/** The tunnel/transport meaning of any encapsulation mode value, or undefined for an unknown one. */
export function baseEncapsulation(mode: number): 'tunnel' | 'transport' | undefined {
  if (mode === 1 || mode === 3 || mode === 61443) return 'tunnel'
  if (mode === 2 || mode === 4 || mode === 61444) return 'transport'
  return undefined
}

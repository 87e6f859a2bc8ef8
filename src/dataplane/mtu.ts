// Inner MTU/MSS of a tunnel so that one full inner packet travels as one outer TCP segment on a
// path MTU (RFC 791, RFC 9293 §3.7.1 MSS, RFC 7323 §3 timestamps, RFC 5246 §6.2.3, RFC 8446 §5.2,
// MS-SSTP §2.2.1, RFC 1662 §3.1 PPP HDLC-like address/control; PPTP: RFC 2637 §4.1 enhanced GRE,
// RFC 3078 §3 MPPE header; plain L2TP: RFC 768 UDP, RFC 2661 §3.1 data message header).

export type TunnelProtocol = 'sstp' | 'pptp' | 'l2tp' | 'l2tp-ipsec'

/** Outer IPv4 header without options (RFC 791 §3.1). */
export const IPV4_HEADER = 20
/** TCP header 20 + timestamps option 10 padded to 12 (RFC 7323 §3), which Windows and Linux send. */
export const TCP_HEADER_WITH_TIMESTAMPS = 20 + 12
/** TLS record header: type 1, version 2, length 2 (RFC 5246 §6.2.1, RFC 8446 §5.1). */
export const TLS_RECORD_HEADER = 5
/** SSTP data packet header: version 1, reserved+C 1, length 2 (MS-SSTP §2.2.1). */
export const SSTP_HEADER = 4
/** PPP in SSTP: address 0xFF + control 0x03 + 2-byte protocol, no ACFC/PFC assumed (RFC 1662 §3.1). */
export const PPP_HEADER = 4

/** Enhanced GRE header with both Sequence and Acknowledgment numbers present (RFC 2637 §4.1). */
export const GRE_ENHANCED_HEADER = 8 + 4 + 4
/** MPPE header: A/B/C/D flag bits + 12-bit coherency count (RFC 3078 §3). */
export const MPPE_HEADER = 2
/** Inner PPP protocol number carried encrypted inside the MPPE payload (RFC 3078 §3, PFC off). */
export const MPPE_INNER_PROTOCOL = 2
/** UDP header (RFC 768). */
export const UDP_HEADER = 8
/**
 * The L2TP data message header as our cores send it (RFC 2661 §3.1, l2tp/header.ts encodeData): flags
 * and version 2 + Tunnel ID 2 + Session ID 2, and Ns 2 + Nr 2 when the LAC asked for sequencing (§5.4).
 * We never set L (Length) or O (Offset) on data messages. The worst case, with Ns/Nr, is counted.
 */
export const L2TP_DATA_HEADER_MAX = 6 + 4
/** What Windows configures on its PPTP interface: a round figure below our computed 1456. */
export const WINDOWS_PPTP_MTU = 1400

/**
 * Largest TLS plaintext that fits in `room` bytes of record (header included), for the costliest
 * record protection an SSTP client negotiates — we must hold for all of them:
 *  - TLS 1.2 AES-GCM (RFC 5288 §3): 8-byte explicit nonce + 16-byte tag;
 *  - TLS 1.3 AEAD (RFC 8446 §5.2): 1 content-type byte + 16-byte tag (no padding sent);
 *  - TLS 1.2 CBC (RFC 5246 §6.2.3.2): 16-byte explicit IV, then plaintext + MAC + padding + the
 *    padding-length byte rounded up to the 16-byte AES block; MAC up to 48 bytes (HMAC-SHA384).
 */
export function tlsPlaintextRoom(room: number): number {
  const gcm12 = room - TLS_RECORD_HEADER - 8 - 16
  const aead13 = room - TLS_RECORD_HEADER - 1 - 16
  const cbcBody = Math.floor((room - TLS_RECORD_HEADER - 16) / 16) * 16 // whole AES blocks
  const cbc = cbcBody - 48 - 1
  return Math.min(gcm12, aead13, cbc)
}

/**
 * The inner (PPP/IP) MTU for `protocol` over a path of `pathMtu` bytes: one inner packet fills at
 * most one TLS record that fits one TCP segment, so neither IP fragments nor a full segment plus a
 * runt follow. SSTP over 1500: 1500 - 20 IP - 32 TCP = 1448 for the record; CBC-SHA384 leaves
 * 1375 bytes of plaintext; minus SSTP 4 and PPP 4 = 1367.
 */
export function tunnelMtu(protocol: TunnelProtocol, pathMtu = 1500): number {
  if (protocol === 'pptp') return pptpMtu(pathMtu)
  if (protocol === 'l2tp') return l2tpMtu(pathMtu)
  if (protocol === 'l2tp-ipsec') return l2tpIpsecMtu(pathMtu)
  if (protocol !== 'sstp') throw new RangeError(`unknown tunnel protocol ${String(protocol)}`)
  const segment = pathMtu - IPV4_HEADER - TCP_HEADER_WITH_TIMESTAMPS
  const mtu = tlsPlaintextRoom(segment) - SSTP_HEADER - PPP_HEADER
  // RFC 791: every host must accept 576-byte datagrams; RFC 1661 §6.1 MRU floor is 68 but a
  // tunnel below 576 is useless — refuse rather than return a nonsensical value.
  if (mtu < 576) throw new RangeError(`path MTU ${pathMtu} too small for an SSTP tunnel`)
  return mtu
}

/**
 * PPTP over `pathMtu`: one inner packet is one GRE datagram, unfragmented. 1500 - 20 IPv4 - 16
 * enhanced GRE (seq + ack both present, the worst case) - 4 PPP (address/control + protocol 0x00FD,
 * no ACFC/PFC assumed) - 2 MPPE header - 2 encrypted inner protocol = 1456. Windows uses 1400, a
 * margin for PPPoE or other encapsulation on the path; we compute the exact figure and let the
 * operator's `mtu` setting lower it.
 */
function pptpMtu(pathMtu: number): number {
  const mtu = pathMtu - IPV4_HEADER - GRE_ENHANCED_HEADER - PPP_HEADER - MPPE_HEADER - MPPE_INNER_PROTOCOL
  if (mtu < 576) throw new RangeError(`path MTU ${pathMtu} too small for a PPTP tunnel`)
  return mtu
}

/**
 * Plain L2TP over UDP (no IPsec yet) over `pathMtu`: one inner packet is one UDP datagram, unfragmented.
 * 1500 - 20 IPv4 - 8 UDP - 10 L2TP data header (with Ns/Nr, the worst case we send) - 4 PPP
 * (address/control FF 03 + protocol 0x00FD, no ACFC/PFC assumed) - 2 MPPE header - 2 encrypted inner
 * protocol = 1454. (ESP will take more once L2TP runs inside IPsec; that MTU belongs to the ESP work.)
 */
function l2tpMtu(pathMtu: number): number {
  const mtu = pathMtu - IPV4_HEADER - UDP_HEADER - L2TP_DATA_HEADER_MAX - PPP_HEADER - MPPE_HEADER - MPPE_INNER_PROTOCOL
  if (mtu < 576) throw new RangeError(`path MTU ${pathMtu} too small for an L2TP tunnel`)
  return mtu
}

/** UDP header of ESP-in-UDP (RFC 3948 §2.1), counted whether or not a NAT made it necessary. */
export const ESP_UDP_ENCAP = 8
/** ESP header: SPI 4 + sequence number 4 (RFC 4303 §2). */
export const ESP_HEADER = 8
/** The costliest ESP we negotiate: AES-CBC (16-byte IV, RFC 3602 §3) with HMAC-SHA2-512-256 (32-byte ICV, RFC 4868 §2.3). */
export const ESP_IV_MAX = 16
export const ESP_ICV_MAX = 32
/** Pad Length + Next Header (RFC 4303 §2.4, §2.6). */
export const ESP_TRAILER = 2

/**
 * L2TP/IPsec (RFC 3193) over `pathMtu`: one inner packet is one ESP packet, unfragmented, for the costliest
 * suite we accept. 1500 - 20 IPv4 - 8 UDP (NAT-T) - 8 ESP - 16 IV - 32 ICV leaves 1416 bytes, of which
 * whole 16-byte AES blocks make 1408 bytes of ciphertext; they hold the UDP datagram + 2 trailer bytes:
 * at most 1406 bytes of UDP = 8 UDP + 10 L2TP data header + 4 PPP (no MPPE: ESP protects the call) + 1384.
 * Windows configures 1400, enough for the SHA-1 suites it offers.
 */
function l2tpIpsecMtu(pathMtu: number): number {
  const cipherRoom = Math.floor((pathMtu - IPV4_HEADER - ESP_UDP_ENCAP - ESP_HEADER - ESP_IV_MAX - ESP_ICV_MAX) / 16) * 16
  const mtu = cipherRoom - ESP_TRAILER - UDP_HEADER - L2TP_DATA_HEADER_MAX - PPP_HEADER
  if (mtu < 576) throw new RangeError(`path MTU ${pathMtu} too small for an L2TP/IPsec tunnel`)
  return mtu
}

/** TCP MSS for an inner MTU: minus 20 IPv4 and 20 TCP header bytes (RFC 9293 §3.7.1). */
export function tunnelMss(mtu: number): number { return mtu - 40 }

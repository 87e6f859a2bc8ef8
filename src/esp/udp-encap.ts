// UDP encapsulation of ESP, RFC 3948 §2: port 4500 carries ESP (§2.1), IKE behind a Non-ESP
// Marker (§2.2) and NAT-keepalives (§2.3); this tells them apart from the UDP payload alone.

/*
 * RFC 3948 §2.1 UDP-Encapsulated ESP       §2.2 IKE on port 4500        §2.3 NAT-Keepalive
 *  +--------------+---------------+   +--------------+--------------+   +-------------+-------------+
 *  | Source Port  | Dest. Port    |   | Source Port  | Dest. Port   |   | Source Port | Dest. Port  |
 *  | Length       | Checksum      |   | Length       | Checksum     |   | Length      | Checksum    |
 *  +--------------+---------------+   +--------------+--------------+   +------+------+-------------+
 *  | ESP header [RFC4303] (SPI!=0)|   | Non-ESP Marker (4 zero bytes)|   | 0xFF |
 *  ~                              ~   | IKE header [RFC2409] ...     |   +------+
 *  +------------------------------+   +------------------------------+
 *
 * Only the UDP payload (below the UDP header) reaches this code.
 */

/** §2.2: "Non-ESP Marker is 4 bytes of zero aligning with the SPI field of an ESP packet." */
export const NON_ESP_MARKER_LENGTH = 4
/** §2.3: "The sender MUST use a one-octet-long payload with the value 0xFF." */
export const NAT_KEEPALIVE_OCTET = 0xff
/**
 * §4: keepalives are sent every 20 seconds by default (the sender is IKE's NAT-T code), and their
 * reception MUST NOT be taken as a sign that the peer is alive (no liveness from keepalives).
 */
export const NAT_KEEPALIVE_INTERVAL_MS = 20_000
/** IANA port of UDP-encapsulated ESP and IKE after NAT detection (RFC 3947 §4, RFC 3948 §2). */
export const IPSEC_NAT_T_PORT = 4500

export type UdpEncapKind = 'esp' | 'ike' | 'keepalive' | 'malformed'

/**
 * Classifies a UDP payload received on port 4500. 'esp': at least an ESP header with a non-zero
 * SPI (§2.1 "The SPI field in the ESP header MUST NOT be a zero value"). 'ike': the Non-ESP
 * Marker followed by at least one byte. 'keepalive': the single 0xFF octet, which the receiver
 * ignores (§2.3). Anything else: 'malformed'. Never throws.
 */
export function classifyUdpEncap(payload: Uint8Array): UdpEncapKind {
  const n = payload.length
  if (n === 1) return payload[0] === NAT_KEEPALIVE_OCTET ? 'keepalive' : 'malformed'
  if (n < NON_ESP_MARKER_LENGTH) return 'malformed'
  const zeroMarker = (payload[0]! | payload[1]! | payload[2]! | payload[3]!) === 0
  if (zeroMarker) return n > NON_ESP_MARKER_LENGTH ? 'ike' : 'malformed'
  return n >= 8 ? 'esp' : 'malformed'
}

/** The IKE message after the Non-ESP Marker (a view). Call only when classifyUdpEncap said 'ike'. */
export function stripNonEspMarker(payload: Uint8Array): Uint8Array { return payload.subarray(NON_ESP_MARKER_LENGTH) }

/** An IKE message prefixed with the Non-ESP Marker, for sending on port 4500 (a fresh buffer). */
export function addNonEspMarker(ikeMessage: Uint8Array): Uint8Array {
  const out = new Uint8Array(NON_ESP_MARKER_LENGTH + ikeMessage.length)
  out.set(ikeMessage, NON_ESP_MARKER_LENGTH)
  return out
}

/** A NAT-keepalive payload (a fresh 1-byte buffer). */
export function natKeepalive(): Uint8Array { return Uint8Array.of(NAT_KEEPALIVE_OCTET) }

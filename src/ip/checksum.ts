// The Internet checksum (RFC 1071) and its incremental update (RFC 1624 §3, eqn. 3), over
// Uint8Array without copies; used by IPv4 headers, ICMP, and TCP/UDP with the pseudo-header (RFC 793 §3.1).

/** Folds a running sum of 16-bit words to 16 bits with end-around carry. */
export function foldSum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000)
  return sum
}

/**
 * One's complement sum (not yet complemented) of data[start, end) read as big-endian 16-bit
 * words, added to `initial` (a previous partial sum). An odd trailing byte is padded with zero
 * (RFC 1071 §4.1), so a partial sum over a range must start at an even offset of the whole.
 */
export function onesComplementSum(data: Uint8Array, start = 0, end = data.length, initial = 0): number {
  let sum = initial
  let i = start
  for (; i + 1 < end; i += 2) sum += (data[i]! << 8) | data[i + 1]!
  if (i < end) sum += data[i]! << 8
  return foldSum(sum)
}

/** The checksum to store: the one's complement of the one's complement sum (16 bits). */
export function internetChecksum(data: Uint8Array, start = 0, end = data.length, initial = 0): number {
  return ~onesComplementSum(data, start, end, initial) & 0xffff
}

/** True when data[start, end), checksum field included, sums to 0xFFFF (RFC 1071 §1 verification). */
export function verifyInternetChecksum(data: Uint8Array, start = 0, end = data.length, initial = 0): boolean {
  return onesComplementSum(data, start, end, initial) === 0xffff
}

/**
 * RFC 1624 §3 eqn. 3: HC' = ~(~HC + ~m + m'), the new checksum after one 16-bit word of the
 * covered data changed from `oldWord` to `newWord`. Unlike eqn. 2 it never yields the
 * "minus zero" mistake the RFC describes.
 */
export function updateChecksum16(checksum: number, oldWord: number, newWord: number): number {
  const sum = foldSum((~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff))
  return ~sum & 0xffff
}

/** updateChecksum16 for a changed 32-bit field (an address): both halves at once. */
export function updateChecksum32(checksum: number, oldValue: number, newValue: number): number {
  const c = updateChecksum16(checksum, oldValue >>> 16, newValue >>> 16)
  return updateChecksum16(c, oldValue & 0xffff, newValue & 0xffff)
}

/** Partial sum of the IPv4 pseudo-header for TCP/UDP (RFC 793 §3.1, RFC 768): src, dst, zero, protocol, length. */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return foldSum((src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + (protocol & 0xff) + (length & 0xffff))
}

/** Reads the big-endian u16 at `at` (helper for checksum fields). */
export function readU16(b: Uint8Array, at: number): number { return (b[at]! << 8) | b[at + 1]! }
/** Writes a big-endian u16 at `at`. */
export function writeU16(b: Uint8Array, at: number, v: number): void { b[at] = (v >>> 8) & 0xff; b[at + 1] = v & 0xff }

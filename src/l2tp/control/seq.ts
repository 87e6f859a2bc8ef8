// 16-bit sequence number arithmetic for Ns/Nr, RFC 2661 §5.8 ("all values are modulo 2**16"):
// a value lies "before" another when it is less than 32768 steps behind it.

/** a + n modulo 2^16. */
export function seqAdd(a: number, n: number): number { return (a + n) & 0xffff }

/** The signed distance a - b in [-32768, 32767]: negative when a is before b. */
export function seqDiff(a: number, b: number): number {
  const d = (a - b) & 0xffff
  return d >= 0x8000 ? d - 0x10000 : d
}

/** True when a comes before b (mod 2^16). */
export function seqLt(a: number, b: number): boolean { return seqDiff(a, b) < 0 }

/** True when a comes before b or equals it. */
export function seqLe(a: number, b: number): boolean { return seqDiff(a, b) <= 0 }

// Injectable randomness: cores take an Rng so tests can fix nonces, challenges and magic numbers.
import { randomFillSync } from 'node:crypto'

export interface Rng {
  /** n fresh random bytes (a new array each call). */
  bytes(n: number): Uint8Array
}

/** The system CSPRNG. */
export const systemRng: Rng = {
  bytes(n: number): Uint8Array { return randomFillSync(new Uint8Array(n)) },
}

/** A random unsigned 32-bit integer from an Rng. */
export function randomU32(rng: Rng): number {
  const b = rng.bytes(4)
  return ((b[0]! << 24) >>> 0) + ((b[1]! << 16) | (b[2]! << 8) | b[3]!)
}

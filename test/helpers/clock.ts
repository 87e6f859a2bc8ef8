// Manual clock and fixed RNG for sans-IO core tests.
import type { Rng } from '../../src/crypto/rng.js'

export class ManualClock {
  now = 1_000_000
  advance(ms: number): number { this.now += ms; return this.now }
}

/** Deterministic Rng: a counter-driven byte stream (xorshift32), reproducible per seed. */
export function fixedRng(seed = 0x12345678): Rng {
  let s = seed >>> 0 || 1
  return {
    bytes(n: number): Uint8Array {
      const out = new Uint8Array(n)
      for (let i = 0; i < n; i++) {
        s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0
        out[i] = s & 0xff
      }
      return out
    },
  }
}

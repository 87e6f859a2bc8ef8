// RC4 stream cipher (the "ARCFOUR" algorithm), stateful, for MPPE (RFC 3078 §3, RFC 3079 §3) and the
// MS-CHAPv2 password-change blocks. Pure TypeScript: Node 20's OpenSSL 3 refuses RC4.
// RC4 is broken; it exists here only because MPPE and MS-CHAPv2 require it.

/** The identity permutation the key schedule starts from (copied with one memcpy per rekey). */
const IDENTITY = Uint8Array.from({ length: 256 }, (_, k) => k)

/**
 * A keyed RC4 keystream. The state advances across process() calls; rekey() restarts it.
 * MPPE rekeys per packet in stateless mode (RFC 3078 §7.1), so rekey() and process() allocate nothing.
 */
export class Rc4 {
  private readonly s = new Uint8Array(256)
  private i = 0
  private j = 0
  /** @param key 1..256 bytes (MPPE uses 8 or 16). Throws RangeError otherwise. */
  constructor(key: Uint8Array) { this.rekey(key) }

  /** Re-initialises the state from `key` (key-scheduling algorithm); the old keystream is discarded. */
  rekey(key: Uint8Array): void {
    const klen = key.length
    if (klen < 1 || klen > 256) throw new RangeError(`RC4 key must be 1..256 bytes, got ${klen}`)
    const s = this.s
    s.set(IDENTITY)
    // The key index wraps by compare, not by `%` (a division per step in the hot path).
    let j = 0
    let ki = 0
    for (let k = 0; k < 256; k++) {
      const t = s[k]!
      j = (j + t + key[ki]!) & 0xff
      if (++ki === klen) ki = 0
      s[k] = s[j]!
      s[j] = t
    }
    this.i = 0
    this.j = 0
  }

  /**
   * XORs the next input.length keystream bytes into `input` and writes the result to `output`
   * (default: a new array), which must be at least input.length long. `output` may overlap `input`
   * when it starts at or before it in the same buffer (in place, or shifted towards the start):
   * each byte is read before any later position is written. Returns the written view of output.
   */
  process(input: Uint8Array, output: Uint8Array = new Uint8Array(input.length)): Uint8Array {
    if (output.length < input.length) throw new RangeError('RC4 output buffer shorter than input')
    const s = this.s
    let i = this.i, j = this.j
    // `k < input.length` (not a cached length): V8 then drops the bounds check on input[k] (~15%).
    for (let k = 0; k < input.length; k++) {
      i = (i + 1) & 0xff
      const si = s[i]!
      j = (j + si) & 0xff
      const sj = s[j]!
      s[i] = sj
      s[j] = si
      output[k] = input[k]! ^ s[(si + sj) & 0xff]!
    }
    this.i = i
    this.j = j
    return output.length === input.length ? output : output.subarray(0, input.length)
  }

  /** XORs one keystream byte into `x` (0..255): a single step without a view object. */
  processByte(x: number): number {
    const s = this.s
    const i = (this.i + 1) & 0xff
    const si = s[i]!
    const j = (this.j + si) & 0xff
    const sj = s[j]!
    s[i] = sj
    s[j] = si
    this.i = i
    this.j = j
    return (x ^ s[(si + sj) & 0xff]!) & 0xff
  }

  /** Advances the keystream by n bytes without output (e.g. to test RFC 6229 offsets). */
  skip(n: number): void { this.process(new Uint8Array(n)) }

  /** Zeroes the state (teardown); the instance must be rekeyed before further use. */
  wipe(): void { this.s.fill(0); this.i = 0; this.j = 0 }
}

/** One-shot RC4: encrypts/decrypts `data` under `key` from keystream offset 0. */
export function rc4(key: Uint8Array, data: Uint8Array): Uint8Array { return new Rc4(key).process(data) }

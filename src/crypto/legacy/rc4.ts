// RC4 stream cipher (the "ARCFOUR" algorithm), stateful, for MPPE (RFC 3078 §3, RFC 3079 §3) and the
// MS-CHAPv2 password-change blocks. Pure TypeScript: Node 20's OpenSSL 3 refuses RC4.
// RC4 is broken; it exists here only because MPPE and MS-CHAPv2 require it.

/** A keyed RC4 keystream. The state advances across process() calls; rekey() restarts it. */
export class Rc4 {
  private readonly s = new Uint8Array(256)
  private i = 0
  private j = 0
  /** @param key 1..256 bytes (MPPE uses 8 or 16). Throws RangeError otherwise. */
  constructor(key: Uint8Array) { this.rekey(key) }

  /** Re-initialises the state from `key` (key-scheduling algorithm); the old keystream is discarded. */
  rekey(key: Uint8Array): void {
    if (key.length < 1 || key.length > 256) throw new RangeError(`RC4 key must be 1..256 bytes, got ${key.length}`)
    const s = this.s
    for (let k = 0; k < 256; k++) s[k] = k
    let j = 0
    for (let k = 0; k < 256; k++) {
      const t = s[k]!
      j = (j + t + key[k % key.length]!) & 0xff
      s[k] = s[j]!
      s[j] = t
    }
    this.i = 0
    this.j = 0
  }

  /**
   * XORs the next input.length keystream bytes into `input` and writes the result to `output`
   * (default: a new array). `output` may be `input` itself (in place) and must be at least
   * input.length long. Returns the written view of output.
   */
  process(input: Uint8Array, output: Uint8Array = new Uint8Array(input.length)): Uint8Array {
    if (output.length < input.length) throw new RangeError('RC4 output buffer shorter than input')
    const s = this.s
    let i = this.i, j = this.j
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

  /** Advances the keystream by n bytes without output (e.g. to test RFC 6229 offsets). */
  skip(n: number): void { this.process(new Uint8Array(n)) }

  /** Zeroes the state (teardown); the instance must be rekeyed before further use. */
  wipe(): void { this.s.fill(0); this.i = 0; this.j = 0 }
}

/** One-shot RC4: encrypts/decrypts `data` under `key` from keystream offset 0. */
export function rc4(key: Uint8Array, data: Uint8Array): Uint8Array { return new Rc4(key).process(data) }

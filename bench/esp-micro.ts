// Micro-benchmark of ESP per-packet cryptography (RFC 4303 §3.3.2 seal, §3.4.4 open) for one 1356-byte
// L2TP data packet: AES-CBC with a cipher per packet (reuseCipherContexts: false, the old path) against
// one long-lived context per SA direction (src/esp/cbc-context.ts), in alternating rounds; AES-GCM and
// 3DES for scale; and HMAC via createHmac per packet against precomputed ipad/opad states + hash.copy().
//   node dist/bench/esp-micro.js [packets-per-round] [rounds]
// Prints µs per packet as CPU time of this process (user + system: steadier than wall time on a shared
// machine) with wall time beside it; the figure per variant is the median of its rounds.
import { createHash, createHmac, randomBytes } from 'node:crypto'
import type { Hash } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { EspEncryption, EspIntegrity } from '../src/esp/algorithms.js'
import type { EspEncryptionAlgorithm, EspIntegrityAlgorithm } from '../src/esp/algorithms.js'
import { EspTransform } from '../src/esp/transform.js'

const DATA = 1356

interface Variant { readonly name: string; readonly run: (n: number) => void }

/** n packets sealed by one transform and opened by the peer's; IVs from a random pool as the SA does. */
function sealOpen(enc: EspEncryptionAlgorithm, mac: EspIntegrityAlgorithm | undefined, reuse: boolean, mode: 'seal' | 'both'): (n: number) => void {
  const keys = { encryptionKey: randomBytes(enc.keyLength + enc.saltLength), ...(mac ? { integrityKey: randomBytes(mac.keyLength) } : {}) }
  const tx = new EspTransform(enc, mac, keys, { reuseCipherContexts: reuse })
  const rx = new EspTransform(enc, mac, keys, { reuseCipherContexts: reuse })
  const payload = randomBytes(DATA)
  const out = new Uint8Array(tx.sealedLength(DATA))
  const ivs = randomBytes(4096)
  let seq = 0
  return (n) => {
    for (let i = 0; i < n; i++) {
      seq++
      const at = (seq * enc.ivLength) % (ivs.length - enc.ivLength)
      tx.seal(0x1001, seq, undefined, ivs.subarray(at, at + enc.ivLength), payload, 17, out)
      if (mode === 'both' && typeof rx.open(out, undefined) === 'string') throw new Error(`${enc.name}: open failed`)
    }
  }
}

/** HMAC (RFC 2104) with the ipad/opad blocks hashed once and hash.copy() per packet. */
class HmacByCopy {
  private readonly inner: Hash
  private readonly outer: Hash
  constructor(hash: string, blockSize: number, key: Uint8Array) {
    const k = Buffer.alloc(blockSize)
    k.set(key.length > blockSize ? createHash(hash).update(key).digest() : key)
    this.inner = createHash(hash).update(k.map((b) => b ^ 0x36))
    this.outer = createHash(hash).update(k.map((b) => b ^ 0x5c))
    k.fill(0)
  }
  digest(data: Uint8Array): Buffer { return this.outer.copy().update(this.inner.copy().update(data).digest()).digest() }
}

function hmacVariants(): Variant[] {
  const key = randomBytes(20), data = randomBytes(DATA + 24)
  const byCopy = new HmacByCopy('sha1', 64, key)
  if (!byCopy.digest(data).equals(createHmac('sha1', key).update(data).digest())) throw new Error('HmacByCopy differs from createHmac')
  return [
    { name: 'hmac-sha1 createHmac per packet', run: (n) => { for (let i = 0; i < n; i++) createHmac('sha1', key).update(data).digest() } },
    { name: 'hmac-sha1 precomputed + copy()', run: (n) => { for (let i = 0; i < n; i++) byCopy.digest(data) } },
  ]
}

function measure(v: Variant, n: number): { cpu: number; wall: number } {
  const c0 = process.cpuUsage(), t0 = performance.now()
  v.run(n)
  const c = process.cpuUsage(c0)
  return { cpu: (c.user + c.system) / n, wall: ((performance.now() - t0) * 1000) / n }
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]! }

/** Runs the variants in alternating rounds (A B C A B C ...) and returns the medians in µs per packet. */
export function espMicro(packets: number, rounds: number): { name: string; cpu: number; wall: number }[] {
  const A256 = EspEncryption.AES_CBC_256, A128 = EspEncryption.AES_CBC_128, SHA1 = EspIntegrity.HMAC_SHA1_96, SHA256 = EspIntegrity.HMAC_SHA2_256_128
  const variants: Variant[] = [
    { name: 'aes-cbc-256/hmac-sha1-96 seal+open, cipher per packet', run: sealOpen(A256, SHA1, false, 'both') },
    { name: 'aes-cbc-256/hmac-sha1-96 seal+open, long-lived context', run: sealOpen(A256, SHA1, true, 'both') },
    { name: 'aes-cbc-256/hmac-sha1-96 seal, cipher per packet', run: sealOpen(A256, SHA1, false, 'seal') },
    { name: 'aes-cbc-256/hmac-sha1-96 seal, long-lived context', run: sealOpen(A256, SHA1, true, 'seal') },
    { name: 'aes-cbc-128/hmac-sha2-256-128 seal+open, cipher per packet', run: sealOpen(A128, SHA256, false, 'both') },
    { name: 'aes-cbc-128/hmac-sha2-256-128 seal+open, long-lived context', run: sealOpen(A128, SHA256, true, 'both') },
    { name: 'aes-gcm16-256 seal+open (cipher per packet: a new nonce needs one)', run: sealOpen(EspEncryption.AES_GCM16_256, undefined, true, 'both') },
    { name: '3des-cbc/hmac-sha1-96 seal+open (cipher per packet, legacy)', run: sealOpen(EspEncryption.DES3_CBC, SHA1, true, 'both') },
    ...hmacVariants(),
  ]
  for (const v of variants) v.run(Math.max(200, packets >> 4)) // warm-up
  const cpu = variants.map(() => [] as number[]), wall = variants.map(() => [] as number[])
  for (let r = 0; r < rounds; r++) {
    variants.forEach((v, i) => { const m = measure(v, packets); cpu[i]!.push(m.cpu); wall[i]!.push(m.wall) })
  }
  return variants.map((v, i) => ({ name: v.name, cpu: median(cpu[i]!), wall: median(wall[i]!) }))
}

if (process.argv[1]?.endsWith('esp-micro.js')) {
  const packets = Number(process.argv[2] ?? 20_000), rounds = Number(process.argv[3] ?? 9)
  console.log(`ESP per packet (${DATA}-byte payload), median of ${rounds} alternating rounds of ${packets}; µs CPU (µs wall)`)
  for (const r of espMicro(packets, rounds)) console.log(`${r.cpu.toFixed(2).padStart(7)} (${r.wall.toFixed(2).padStart(6)})  ${r.name}`)
}

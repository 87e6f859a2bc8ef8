// Salted scrypt password hashes (RFC 7914) for PAP, stored as a self-describing string so the cost
// can be raised later without invalidating existing users.
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto'

/**
 * N = 2^15, r = 8, p = 1: 32 MiB and ~0.1 s per check on a server core. Lower than OWASP's 2^17
 * because verify() runs on the gateway's event loop; PAP is off by default, so this cost is paid
 * only by deployments that enable it.
 */
export const DEFAULT_SCRYPT_N = 1 << 15
const R = 8, P = 1, KEY_LEN = 32, SALT_LEN = 16

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Buffer {
  return scryptSync(password.normalize('NFC'), salt, KEY_LEN, { N: n, r, p, maxmem: 128 * n * r * 2 + 1024 * 1024 })
}

/** "scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>". `n` must be a power of two >= 2^10. */
export function hashPassword(password: string, n: number = DEFAULT_SCRYPT_N): string {
  const salt = randomBytes(SALT_LEN)
  return `scrypt$${n}$${R}$${P}$${salt.toString('base64')}$${derive(password, salt, n, R, P).toString('base64')}`
}

interface Parsed { readonly n: number; readonly r: number; readonly p: number; readonly salt: Buffer; readonly want: Buffer }

function parseStored(stored: string): Parsed | undefined {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined
  const n = Number(parts[1]), r = Number(parts[2]), p = Number(parts[3])
  if (!Number.isInteger(n) || n < 2 || n > 1 << 20 || (n & (n - 1)) !== 0 || !Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16) return undefined
  // Memory is 128 * N * r bytes: refuse stored costs above 512 MiB rather than exhaust the host.
  if (n * r > 1 << 22) return undefined
  const salt = Buffer.from(parts[4]!, 'base64')
  const want = Buffer.from(parts[5]!, 'base64')
  if (want.length !== KEY_LEN) return undefined
  return { n, r, p, salt, want }
}

/** Constant-time check of `password` against a stored hash; a malformed stored hash is false. */
export function verifyPassword(password: string, stored: string): boolean {
  const s = parseStored(stored)
  return s !== undefined && timingSafeEqual(derive(password, s.salt, s.n, s.r, s.p), s.want)
}

/**
 * The same check on libuv's thread pool: ~0.1 s of scrypt must not stall every tunnel of the
 * gateway's event loop (PAP logins, including those of unknown or locked names).
 */
export function verifyPasswordAsync(password: string, stored: string): Promise<boolean> {
  const s = parseStored(stored)
  if (!s) return Promise.resolve(false)
  return new Promise((resolve) => {
    scrypt(password.normalize('NFC'), s.salt, KEY_LEN, { N: s.n, r: s.r, p: s.p, maxmem: 128 * s.n * s.r * 2 + 1024 * 1024 }, (err, key) => {
      resolve(!err && timingSafeEqual(key, s.want))
    })
  })
}

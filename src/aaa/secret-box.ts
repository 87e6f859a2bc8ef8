// AES-256-GCM sealing of reversibly stored passwords (needed only by CHAP-MD5/EAP-MD5), and the
// 32-byte secret key file that protects them.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { VpnError } from '../lib/errors.js'

export const SECRET_KEY_LENGTH = 32
const IV_LEN = 12, TAG_LEN = 16

function checkKey(key: Uint8Array): void {
  if (key.length !== SECRET_KEY_LENGTH) throw new VpnError('ERR_BAD_SECRET_KEY', `secret key must be ${SECRET_KEY_LENGTH} bytes, got ${key.length}`)
}

/**
 * Seals `plain` as iv(12) || ciphertext || tag(16). `aad` binds the box to its row (the user name),
 * so a sealed password copied onto another user's row fails to open.
 */
export function seal(key: Uint8Array, plain: Uint8Array, aad: Uint8Array): Uint8Array {
  checkKey(key)
  const iv = randomBytes(IV_LEN)
  const c = createCipheriv('aes-256-gcm', key, iv)
  c.setAAD(aad)
  const body = Buffer.concat([c.update(plain), c.final()])
  return new Uint8Array(Buffer.concat([iv, body, c.getAuthTag()]))
}

/** Opens a box from seal(); undefined if it is malformed or the key or aad is wrong. */
export function open(key: Uint8Array, box: Uint8Array, aad: Uint8Array): Uint8Array | undefined {
  checkKey(key)
  if (box.length < IV_LEN + TAG_LEN) return undefined
  try {
    const d = createDecipheriv('aes-256-gcm', key, box.subarray(0, IV_LEN))
    d.setAAD(aad)
    d.setAuthTag(box.subarray(box.length - TAG_LEN))
    return new Uint8Array(Buffer.concat([d.update(box.subarray(IV_LEN, box.length - TAG_LEN)), d.final()]))
  } catch {
    return undefined
  }
}

/** Reads a secret key file (exactly 32 raw bytes). Throws ERR_NO_SECRET_KEY / ERR_BAD_SECRET_KEY. */
export function readSecretKey(path: string): Uint8Array {
  let b: Buffer
  try {
    b = readFileSync(path)
  } catch (e) {
    throw new VpnError('ERR_NO_SECRET_KEY', `cannot read secret key ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e })
  }
  const key = new Uint8Array(b)
  checkKey(key)
  return key
}

/** Creates a new random secret key file with mode 0600; refuses to overwrite an existing one. */
export function createSecretKeyFile(path: string): Uint8Array {
  const key = new Uint8Array(randomBytes(SECRET_KEY_LENGTH))
  try {
    writeFileSync(path, key, { mode: 0o600, flag: 'wx' })
  } catch (e) {
    throw new VpnError('ERR_SECRET_KEY_FILE', `cannot create secret key ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e })
  }
  return key
}

// Reading a secret kept in a file of the gateway directory (a link's router password, the IPsec pre-shared
// key): the first line, refused when others can read the file — a shared secret readable by every local
// user is a shared secret no longer.
import { readFileSync, statSync } from 'node:fs'
import { VpnError } from '../lib/errors.js'

/** The first line of `path`; VpnError ERR_CONFIG naming `what` and the fix when missing, empty or mode not 0600-like. */
export function readSecretFile(path: string, what: string): string {
  let text: string
  let mode: number
  try {
    mode = statSync(path).mode
    text = readFileSync(path, 'utf8')
  } catch (e) {
    throw new VpnError('ERR_CONFIG', `cannot read the ${what} file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
  if ((mode & 0o077) !== 0) throw new VpnError('ERR_CONFIG', `the ${what} file ${path} is readable by others (mode ${(mode & 0o777).toString(8)}): chmod 600 ${path}`)
  const secret = text.split(/\r?\n/)[0] ?? ''
  if (!secret) throw new VpnError('ERR_CONFIG', `the ${what} file ${path} is empty`)
  return secret
}

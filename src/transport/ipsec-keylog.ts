// Debug key log for IPsec (like NSS's SSLKEYLOGFILE): appends the keys of every ESP SA and ISAKMP SA to a
// file so that a capture can be decrypted (test/interop/esp-keylog.mjs turns it into tshark's esp_sa and
// ikev1_decryption_table UATs). Only ever opened when a user names the file; the keys on disk decrypt traffic.
import { appendFileSync } from 'node:fs'

/**
 * One line per SA direction / ISAKMP SA, space-separated, hex keys (lowercase), '-' for none:
 *   ESP <spi 8 hex> <src> <dst> <encryption> <encryption key+salt> <integrity|-> <integrity key|-> <raw|udp>
 *   IKEV1 <CKY-I 16 hex> <CKY-R 16 hex> <cipher> <phase 1 encryption key>
 * Lines starting with '#' are comments.
 */
export interface IpsecKeyLog {
  esp(e: { spi: number; src: string; dst: string; encryption: string; encryptionKey: Uint8Array; integrity?: string; integrityKey?: Uint8Array; udp: boolean }): void
  ike(e: { ckyI: Uint8Array; ckyR: Uint8Array; cipher: string; encryptionKey: Uint8Array }): void
}

const hex = (b: Uint8Array | undefined): string => (b && b.length > 0 ? Buffer.from(b).toString('hex') : '-')

/**
 * A key log appending to `file` (created 0600). Write errors are reported once through `onError` and
 * never stop the tunnel (the log is a debugging aid, not part of the protocol).
 */
export function openIpsecKeyLog(file: string, onError: (e: Error) => void): IpsecKeyLog {
  let failed = false
  const write = (line: string): void => {
    if (failed) return
    try { appendFileSync(file, line + '\n', { mode: 0o600 }) } catch (e) {
      failed = true
      onError(new Error(`IPsec key log ${file}: ${(e as Error).message}`))
    }
  }
  write(`# gatehouse IPsec key log: SECRET key material for debugging captures; delete it after use`)
  return {
    esp: (e) => write(`ESP ${(e.spi >>> 0).toString(16).padStart(8, '0')} ${e.src} ${e.dst} ${e.encryption} ${hex(e.encryptionKey)} ${e.integrity ?? '-'} ${hex(e.integrityKey)} ${e.udp ? 'udp' : 'raw'}`),
    ike: (e) => write(`IKEV1 ${hex(e.ckyI)} ${hex(e.ckyR)} ${e.cipher} ${hex(e.encryptionKey)}`),
  }
}

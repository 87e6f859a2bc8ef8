// Test helper: runs the openssl command line (an independent implementation to check our DER
// against) and writes scratch files in a temporary directory.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface Run { readonly code: number | null; readonly out: string; readonly err: string }

/** openssl with `args`; stdout/stderr as text, or raw stdout with `binary`. */
export function openssl(args: string[], input?: string | Uint8Array): Run {
  const r = spawnSync('openssl', args, { input, encoding: 'utf8', timeout: 30_000 })
  if (r.error) throw new Error(`cannot run openssl (install the openssl package): ${r.error.message}`)
  return { code: r.status, out: r.stdout, err: r.stderr }
}

export function opensslBinary(args: string[]): Uint8Array {
  const r = spawnSync('openssl', args, { timeout: 30_000 })
  if (r.error || r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.error?.message ?? r.stderr.toString()}`)
  return new Uint8Array(r.stdout)
}

export class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), 'gh-pki-'))
  file(name: string, data: string | Uint8Array): string {
    const p = join(this.dir, name)
    writeFileSync(p, data)
    return p
  }
  path(name: string): string { return join(this.dir, name) }
  remove(): void { rmSync(this.dir, { recursive: true, force: true }) }
}

/** One DER TLV at `at` (short or long definite length): where its content starts and ends. */
export function derTlv(b: Uint8Array, at: number): { tag: number; start: number; end: number } {
  let len = b[at + 1]!, start = at + 2
  if (len & 0x80) { const n = len & 0x7f; len = 0; for (let i = 0; i < n; i++) len = len * 256 + b[at + 2 + i]!; start += n }
  return { tag: b[at]!, start, end: start + len }
}

/** A DER header for `tag` and a content length (hand-built goldens). */
export function derHeader(tag: number, length: number): string {
  if (length < 0x80) return Buffer.from([tag, length]).toString('hex')
  const bytes: number[] = []
  for (let v = length; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256)
  return Buffer.from([tag, 0x80 | bytes.length, ...bytes]).toString('hex')
}

// Loads test/vectors/sstp/<name>.json from the compiled test's location (tsc does not copy JSON).
import { readFileSync } from 'node:fs'
import { fromHex } from '../../src/lib/bytes.js'

export function loadSstpVectors<T>(name: string): T & { source: string } {
  const url = new URL(`../../../test/vectors/sstp/${name}.json`, import.meta.url)
  const v = JSON.parse(readFileSync(url, 'utf8')) as T & { source: string }
  if (typeof v.source !== 'string' || v.source.length === 0) throw new Error(`${name}.json lacks a source`)
  return v
}

/** Hex with spaces ("10 01 00 0E") to bytes. */
export const hx = (s: string): Uint8Array => fromHex(s)

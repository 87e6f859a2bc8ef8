// Loads test/vectors/l2tp/<name>.json from the compiled test's location (tsc does not copy JSON).
import { readFileSync } from 'node:fs'

export function loadL2tpVectors<T>(name: string): T & { source: string } {
  const url = new URL(`../../../test/vectors/l2tp/${name}.json`, import.meta.url)
  const v = JSON.parse(readFileSync(url, 'utf8')) as T & { source: string }
  if (typeof v.source !== 'string' || v.source.length === 0) throw new Error(`${name}.json lacks a source`)
  return v
}

// Loads a JSON vector file from test/vectors/<area>/ (tsc does not copy JSON into dist/).
import { readFileSync } from 'node:fs'

/** Parses test/vectors/<area>/<name>.json, resolved from the compiled test's location (dist/test/<dir>/). */
export function loadVectors<T>(area: string, name: string): T & { source: string } {
  const url = new URL(`../../../test/vectors/${area}/${name}.json`, import.meta.url)
  const v = JSON.parse(readFileSync(url, 'utf8')) as T & { source: string }
  if (typeof v.source !== 'string' || v.source.length === 0) throw new Error(`${name}.json lacks a source`)
  return v
}

// Loads DIR/gatehouse.yaml into an immutable, validated GatewayConfig (schema.ts).
// Any problem — missing file, YAML syntax, unknown key, bad value — is VpnError ERR_CONFIG.
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseDocument } from 'yaml'
import { VpnError } from '../lib/errors.js'
import { deepFreeze, validateConfig, type GatewayConfig } from './schema.js'

export const CONFIG_FILE = 'gatehouse.yaml'

/** Parses YAML text as if it were DIR/gatehouse.yaml (used by loadConfig and tests). */
export function parseConfig(yamlText: string, dir: string): GatewayConfig {
  // uniqueKeys: a repeated key is almost always a paste error; refusing beats silently taking the last.
  const doc = parseDocument(yamlText, { uniqueKeys: true, prettyErrors: true })
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!
    throw new VpnError('ERR_CONFIG', `config ${CONFIG_FILE}: YAML error: ${e.message}`)
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 })
  return deepFreeze(validateConfig(raw, resolve(dir)))
}

/** Reads and validates DIR/gatehouse.yaml. Throws VpnError ERR_CONFIG naming the field path. */
export function loadConfig(dir: string): GatewayConfig {
  const file = join(dir, CONFIG_FILE)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw new VpnError('ERR_CONFIG', `config: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e })
  }
  return parseConfig(text, dir)
}

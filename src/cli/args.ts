// Shared option parsing helpers over node:util parseArgs (strict: unknown options are errors).
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { resolve } from 'node:path'
import { VpnError } from '../lib/errors.js'

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, allowPositionals = false) {
  return parseArgs({ args, options, allowPositionals, strict: true })
}

export function requireDir(dir: string | undefined): string {
  if (!dir) throw new VpnError('ERR_USAGE', '--dir DIR is required (the directory `gatehouse init` created)')
  return resolve(dir)
}

export function splitList(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined
  return v.split(',').map((s) => s.trim()).filter(Boolean)
}

// Leveled logger to stderr. Logs name sessions and peers, never keys, passwords or responses.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  child(scope: string): Logger
}

function fmt(fields?: Record<string, unknown>): string {
  if (!fields) return ''
  let s = ''
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue
    const str = typeof v === 'string' ? v : JSON.stringify(v)
    s += ` ${k}=${/\s/.test(str) ? JSON.stringify(str) : str}`
  }
  return s
}

/** A logger writing `time level scope: message k=v` lines to `write` (stderr by default). */
export function createLogger(level: LogLevel = 'info', scope = 'gatehouse', write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const min = ORDER[level]
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[lvl] < min) return
    write(`${new Date().toISOString()} ${lvl.padEnd(5)} ${scope}: ${msg}${fmt(fields)}\n`)
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (s) => createLogger(level, `${scope}/${s}`, write),
  }
}

/** A logger that discards everything (tests). */
export const nullLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => nullLogger }

// Error types: DecodeError for hostile bytes (never escapes a core), VpnError for our bugs and bad config.

/** Thrown by codecs when peer bytes are short or malformed. Cores catch it and count the drop. */
export class DecodeError extends Error {
  readonly field: string
  readonly offset: number
  constructor(field: string, offset: number, detail = '') {
    super(`decode error in ${field} at offset ${offset}${detail ? `: ${detail}` : ''}`)
    this.name = 'DecodeError'
    this.field = field
    this.offset = offset
  }
}

/** Stable error codes for configuration, usage and environment problems shown to administrators. */
export class VpnError extends Error {
  readonly code: string
  constructor(code: `ERR_${string}`, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'VpnError'
    this.code = code
  }
}

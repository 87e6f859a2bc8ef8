// The HTTP layer under SSTP: [MS-SSTP] §3.2.5.1 / §3.3.5.1 and the §4.1 example — the SSTP_DUPLEX_POST request and
// the server's 200 response, parsed incrementally by our own code (Node's HTTP parser refuses the method).
import { fromUtf8, utf8 } from '../lib/bytes.js'

export const SSTP_METHOD = 'SSTP_DUPLEX_POST'
/** §3.2.4.1: "MUST be established to a Universal Resource Identifier (URI) /sra_{BA195980-...}/". */
export const SSTP_URI = '/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/'
/** §3.2.4.1: "The content-length header field ... MUST be specified with ... ULONGLONG_MAX (18446744073709551615)". */
export const SSTP_CONTENT_LENGTH = '18446744073709551615'
export const DEFAULT_MAX_HEAD_BYTES = 8192

/** The client's request (§4.1): method, URI, HTTP/1.1, Host, Content-Length ULONGLONG_MAX, SSTPCORRELATIONID. */
export function encodeSstpRequest(host: string, correlationId: string): Uint8Array {
  if (/[\r\n]/.test(host) || /[\r\n]/.test(correlationId)) throw new RangeError('header values must not contain CR/LF')
  return utf8(`${SSTP_METHOD} ${SSTP_URI} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${SSTP_CONTENT_LENGTH}\r\nSSTPCORRELATIONID: ${correlationId}\r\n\r\n`)
}

/** "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}" from 16 random bytes (version-4 layout), as Windows sends it. */
export function formatCorrelationId(random16: Uint8Array): string {
  const b = new Uint8Array(random16.subarray(0, 16))
  b[6] = (b[6]! & 0x0f) | 0x40
  b[8] = (b[8]! & 0x3f) | 0x80
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0').toUpperCase()).join('')
  return `{${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}}`
}

/** The server's success response (§4.1: HTTP/1.1, status 200, Content-Length ULONGLONG_MAX, Server). */
export function encodeSstpResponse(server = 'Microsoft-HTTPAPI/2.0'): Uint8Array {
  return utf8(`HTTP/1.1 200 OK\r\nContent-Length: ${SSTP_CONTENT_LENGTH}\r\nServer: ${server}\r\n\r\n`)
}

/** An error response that ends the connection (§4.1: "an HTTP error code containing indication this is to be the last data"). */
export function encodeHttpError(status: number, reasonPhrase: string): Uint8Array {
  return utf8(`HTTP/1.1 ${status} ${reasonPhrase}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`)
}

export type HeadResult =
  | { readonly state: 'more' }
  /** `head` is the header block without its blank line; `rest` the bytes after it (a view of the last chunk). */
  | { readonly state: 'done'; readonly head: string; readonly rest: Uint8Array }
  | { readonly state: 'error'; readonly reason: 'head-too-large' | 'bad-bytes' }

/**
 * Gathers an HTTP header block from chunks of any size until the blank line (CRLF CRLF, or bare LF LF, which some
 * clients send). Holds at most `maxBytes`; a block that would exceed it is refused before more is buffered. A NUL
 * byte is refused as 'bad-bytes' (no HTTP head carries one).
 */
export class HttpHeadReader {
  private readonly buf: Uint8Array
  private have = 0
  private finished: HeadResult | undefined
  constructor(maxBytes = DEFAULT_MAX_HEAD_BYTES) { this.buf = new Uint8Array(maxBytes) }

  push(chunk: Uint8Array): HeadResult {
    if (this.finished) return this.finished.state === 'error' ? this.finished : { state: 'more' }
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!
      if (c === 0) return (this.finished = { state: 'error', reason: 'bad-bytes' })
      if (this.have >= this.buf.length) return (this.finished = { state: 'error', reason: 'head-too-large' })
      this.buf[this.have++] = c
      if (c === 0x0a && this.endsHead()) {
        // The head is everything before the line break that ends the last header line.
        let end = this.have - 1 // the final LF
        if (this.buf[end - 1] === 0x0d) end-- // its CR
        end-- // the previous LF
        if (end > 0 && this.buf[end - 1] === 0x0d) end--
        const head = fromUtf8(this.buf.subarray(0, Math.max(end, 0)))
        this.finished = { state: 'done', head, rest: chunk.subarray(i + 1) }
        this.buf.fill(0)
        return this.finished
      }
    }
    return { state: 'more' }
  }

  /** True when the byte just stored (LF) ends an empty line: "\n\n" or "\n\r\n". */
  private endsHead(): boolean {
    const n = this.have
    if (n >= 2 && this.buf[n - 2] === 0x0a) return true
    return n >= 3 && this.buf[n - 2] === 0x0d && this.buf[n - 3] === 0x0a
  }
}

/** Header lines into a lower-cased name -> value map; undefined if a line is not `name: value`. */
function parseHeaderLines(lines: readonly string[]): Map<string, string> | undefined {
  const headers = new Map<string, string>()
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon <= 0) return undefined
    const name = line.slice(0, colon)
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) return undefined
    headers.set(name.toLowerCase(), line.slice(colon + 1).trim())
  }
  return headers
}

export type SstpRequestCheck =
  | { readonly ok: true; readonly host: string | undefined; readonly correlationId: string | undefined; readonly headers: ReadonlyMap<string, string> }
  /** `status` is the HTTP error to answer with; `reason` is machine-readable for counters. */
  | { readonly ok: false; readonly status: 400 | 404 | 405 | 505; readonly phrase: string; readonly reason: string; readonly message: string }

/**
 * Server side (§3.3.5.1 / §4.1): "validates the method to be SSTP_DUPLEX_POST and the HTTP version to be 1.1" and the
 * URI. Malformed request line or headers -> 400; other method -> 405; other URI -> 404; other version -> 505.
 */
export function checkSstpRequest(head: string): SstpRequestCheck {
  const lines = head.split(/\r?\n/)
  const requestLine = lines.shift() ?? ''
  const parts = requestLine.split(' ')
  const bad = (status: 400 | 404 | 405 | 505, phrase: string, reason: string, message: string): SstpRequestCheck =>
    ({ ok: false, status, phrase, reason, message })
  if (parts.length !== 3 || parts.some((p) => p.length === 0)) return bad(400, 'Bad Request', 'bad-request-line', `malformed request line ${JSON.stringify(requestLine.slice(0, 80))}`)
  const [method, uri, version] = parts as [string, string, string]
  if (!/^HTTP\/\d\.\d$/.test(version)) return bad(400, 'Bad Request', 'bad-request-line', `malformed HTTP version ${JSON.stringify(version.slice(0, 20))}`)
  if (method !== SSTP_METHOD) return bad(405, 'Method Not Allowed', 'bad-method', `method ${JSON.stringify(method.slice(0, 40))} is not ${SSTP_METHOD}`)
  // The GUID is hex; accept either letter case, the rest of the path exactly.
  if (uri.toLowerCase() !== SSTP_URI.toLowerCase()) return bad(404, 'Not Found', 'bad-uri', `URI ${JSON.stringify(uri.slice(0, 80))} is not the SSTP URI`)
  if (version !== 'HTTP/1.1') return bad(505, 'HTTP Version Not Supported', 'bad-version', `version ${version} is not HTTP/1.1`)
  const headers = parseHeaderLines(lines)
  if (!headers) return bad(400, 'Bad Request', 'bad-header', 'malformed header line')
  return { ok: true, host: headers.get('host'), correlationId: headers.get('sstpcorrelationid'), headers }
}

export type SstpResponseCheck =
  | { readonly ok: true; readonly headers: ReadonlyMap<string, string> }
  | { readonly ok: false; readonly reason: string; readonly message: string }

/** Client side: success only for HTTP/1.x 200; anything else fails with the status line in the message. */
export function checkSstpResponse(head: string): SstpResponseCheck {
  const lines = head.split(/\r?\n/)
  const statusLine = lines.shift() ?? ''
  const m = /^HTTP\/1\.\d (\d{3})(?: .*)?$/.exec(statusLine)
  const shown = JSON.stringify(statusLine.slice(0, 120))
  if (!m) return { ok: false, reason: 'bad-status-line', message: `malformed HTTP status line ${shown}` }
  if (m[1] !== '200') return { ok: false, reason: 'http-status', message: `server refused SSTP: ${shown}` }
  const headers = parseHeaderLines(lines)
  if (!headers) return { ok: false, reason: 'bad-header', message: 'malformed header line in HTTP response' }
  return { ok: true, headers }
}

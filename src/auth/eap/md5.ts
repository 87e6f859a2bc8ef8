// EAP-MD5-Challenge (RFC 3748 §5.4): CHAP (RFC 1994) inside EAP; Type-Data is
// | Value-Size | Value ... | Name ... |, and Value = MD5(EAP Identifier || password || challenge).
import { ByteReader, ByteWriter, utf8 } from '../../lib/bytes.js'
import { DecodeError } from '../../lib/errors.js'
import type { Rng } from '../../crypto/rng.js'
import type { AuthVerdict } from '../types.js'
import { chapMd5Response } from '../chap-md5.js'
import { EapType } from './codec.js'
import type { EapPeerMethod, EapPeerOutcome, EapPeerStep, EapServerMethod, EapServerStep } from './method.js'

export const EAP_MD5_CHALLENGE_LENGTH = 16
const MD5_LENGTH = 16

export interface EapMd5Data { readonly value: Uint8Array; readonly name: Uint8Array }

/** Decodes MD5-Challenge Type-Data (views). Throws DecodeError for an empty or truncated Value. */
export function decodeEapMd5(typeData: Uint8Array): EapMd5Data {
  const r = new ByteReader(typeData)
  const size = r.u8('value-size')
  if (size === 0) throw new DecodeError('value-size', 0, 'empty MD5 Value')
  return { value: r.bytes(size, 'value'), name: r.rest() }
}

/** Encodes MD5-Challenge Type-Data. Throws RangeError for a Value outside 1..255 octets. */
export function encodeEapMd5(value: Uint8Array, name: Uint8Array): Uint8Array {
  if (value.length === 0 || value.length > 255) throw new RangeError('MD5 Value must be 1..255 octets')
  return new ByteWriter(1 + value.length + name.length).u8(value.length).bytes(value).bytes(name).finish()
}

/** Authenticator side; `identity` (from EAP Identity) is the user name AAA verifies. */
export class EapMd5Server implements EapServerMethod {
  readonly name = 'eap-md5'
  readonly type = EapType.MD5_CHALLENGE
  private readonly rng: Rng
  private readonly serverName: Uint8Array
  private readonly identity: string
  private challenge: Uint8Array = new Uint8Array(0)
  private state: 'idle' | 'challenged' | 'verifying' | 'done' = 'idle'

  constructor(opts: { readonly rng: Rng; readonly serverName: string; readonly identity: string }) {
    this.rng = opts.rng
    this.serverName = utf8(opts.serverName)
    this.identity = opts.identity
  }

  initiate(_identifier: number): Uint8Array {
    this.challenge = this.rng.bytes(EAP_MD5_CHALLENGE_LENGTH)
    this.state = 'challenged'
    return encodeEapMd5(this.challenge, this.serverName)
  }

  handleResponse(identifier: number, typeData: Uint8Array): EapServerStep {
    if (this.state !== 'challenged') return { kind: 'drop', reason: 'unexpected-response' }
    const d = decodeEapMd5(typeData)
    if (d.value.length !== MD5_LENGTH) return { kind: 'drop', reason: 'bad-response-length' }
    this.state = 'verifying'
    return { kind: 'verify', proof: { method: 'chap-md5', user: this.identity, id: identifier, challenge: this.challenge.slice(), response: d.value.slice() } }
  }

  handleVerdict(verdict: AuthVerdict): EapServerStep {
    if (this.state !== 'verifying') return { kind: 'drop', reason: 'unexpected-verdict' }
    this.state = 'done'
    return verdict.ok ? { kind: 'success', user: verdict.user } : { kind: 'failure', reason: verdict.reason, message: verdict.message }
  }
}

/** Peer side: answers every MD5-Challenge with chapMd5Response over the UTF-8 password. */
export class EapMd5Peer implements EapPeerMethod {
  readonly name = 'eap-md5'
  readonly type = EapType.MD5_CHALLENGE
  private readonly user: Uint8Array
  private readonly secret: Uint8Array
  private answered = false

  constructor(opts: { readonly user: string; readonly password: string }) {
    this.user = utf8(opts.user)
    this.secret = utf8(opts.password)
  }

  handleRequest(identifier: number, typeData: Uint8Array): EapPeerStep {
    const d = decodeEapMd5(typeData)
    this.answered = true
    return { kind: 'respond', typeData: encodeEapMd5(chapMd5Response(identifier, this.secret, d.value), this.user) }
  }

  // MD5-Challenge has no server proof: Success is believable once we have answered a challenge.
  handleSuccess(): EapPeerOutcome {
    return this.answered ? { ok: true } : { ok: false, reason: 'unexpected-success', message: 'EAP Success before any MD5-Challenge was answered' }
  }

  handleFailure(): { reason: string; message: string } {
    return { reason: 'bad-credentials', message: 'EAP Failure after MD5-Challenge' }
  }
}

// PAP (RFC 1334 §2): the authenticator waits for Authenticate-Request and answers Ack/Nak after
// AAA's verdict; the peer repeats Authenticate-Request on the Restart timer until answered.
import { fromUtf8, utf8 } from '../../lib/bytes.js'
import { VpnError } from '../../lib/errors.js'
import type { Millis } from '../../lib/time.js'
import type { AuthVerdict } from '../../auth/types.js'
import { AuthCoreBase, DEFAULT_MAX_RETRIES, DEFAULT_RESTART_MS, sanitizePeerText } from './core-base.js'
import { AuthProtocol } from './option.js'
import { decodePap, encodePap } from './pap-codec.js'
import type { AuthenticatorOptions, AuthPeerOptions, PppAuthCore } from './types.js'

const ACK_TEXT = utf8('Welcome')
// The peer learns only that it failed; the reason (no such user, bad password, locked) stays in our logs.
const NAK_TEXT = utf8('Authentication failed')

/** PAP authenticator: waits up to restartMs × (maxRetries + 1) for the first Authenticate-Request. */
export class PapAuthenticator extends AuthCoreBase implements PppAuthCore {
  readonly protocol = AuthProtocol.PAP
  private state: 'idle' | 'waiting' | 'verifying' | 'done' = 'idle'
  private readonly waitMs: number
  private pendingId = 0
  private final: { ack: boolean } | undefined

  constructor(opts: AuthenticatorOptions) {
    super()
    this.waitMs = (opts.restartMs ?? DEFAULT_RESTART_MS) * ((opts.maxRetries ?? DEFAULT_MAX_RETRIES) + 1)
  }

  start(now: Millis): void {
    if (this.state !== 'idle') return
    this.state = 'waiting'
    this.deadline = now + this.waitMs
  }

  handlePacket(_now: Millis, info: Uint8Array): void {
    this.guard(() => {
      const m = decodePap(info)
      if (m.code !== 'Authenticate-Request') return this.drop('unexpected-code')
      switch (this.state) {
        case 'idle': return this.drop('not-started')
        case 'verifying': return this.drop('request-while-verifying')
        case 'done':
          // RFC 1334 §2.2.1: a reply "MUST be returned" to every Authenticate-Request; the peer
          // repeats its request when our Ack/Nak was lost, so repeat the outcome under its new Identifier.
          this.send(encodePap({ code: this.final?.ack ? 'Authenticate-Ack' : 'Authenticate-Nak', identifier: m.identifier, message: this.final?.ack ? ACK_TEXT : NAK_TEXT }))
          return this.drop('repeated-request')
        case 'waiting':
          this.state = 'verifying'
          this.pendingId = m.identifier
          this.deadline = undefined // AAA's turn; the session bounds how long it waits
          this.events.push({ type: 'verify', proof: { method: 'pap', user: fromUtf8(m.peerId), password: fromUtf8(m.password) } })
      }
    })
  }

  handleVerdict(_now: Millis, verdict: AuthVerdict): void {
    if (this.state !== 'verifying') return this.drop('unexpected-verdict')
    this.state = 'done'
    this.final = { ack: verdict.ok }
    if (verdict.ok) {
      this.send(encodePap({ code: 'Authenticate-Ack', identifier: this.pendingId, message: ACK_TEXT }))
      this.succeed({ type: 'success', user: verdict.user, method: 'pap', ...(verdict.keys ? { keys: verdict.keys } : {}) })
    } else {
      this.send(encodePap({ code: 'Authenticate-Nak', identifier: this.pendingId, message: NAK_TEXT }))
      this.fail(verdict.reason, verdict.message)
    }
  }

  handleTimeout(now: Millis): void {
    if (this.deadline === undefined || now < this.deadline) return
    if (this.state === 'waiting') {
      this.state = 'done'
      this.final = { ack: false }
      this.fail('timeout', 'no PAP Authenticate-Request from the peer')
    }
  }
}

/** PAP peer: sends Authenticate-Request at start and every restartMs, up to maxRetries repeats. */
export class PapPeer extends AuthCoreBase implements PppAuthCore {
  readonly protocol = AuthProtocol.PAP
  private readonly user: string
  private readonly peerId: Uint8Array
  private readonly password: Uint8Array
  private readonly restartMs: number
  private readonly maxRetries: number
  private identifier: number
  private retries = 0
  private started = false

  constructor(opts: AuthPeerOptions) {
    super()
    this.user = opts.user
    this.peerId = utf8(opts.user)
    this.password = utf8(opts.password)
    if (this.peerId.length > 255 || this.password.length > 255) throw new VpnError('ERR_CONFIG_PAP_FIELD', 'PAP user name and password are limited to 255 octets each (RFC 1334 §2.2.1)')
    this.restartMs = opts.restartMs ?? DEFAULT_RESTART_MS
    this.maxRetries = opts.maxRetries ?? DEFAULT_MAX_RETRIES
    this.identifier = opts.rng.bytes(1)[0]!
  }

  start(now: Millis): void {
    if (this.started) return
    this.started = true
    this.transmit(now)
  }

  private transmit(now: Millis): void {
    this.send(encodePap({ code: 'Authenticate-Request', identifier: this.identifier, peerId: this.peerId, password: this.password }))
    this.deadline = now + this.restartMs
  }

  handlePacket(_now: Millis, info: Uint8Array): void {
    this.guard(() => {
      const m = decodePap(info)
      if (m.code === 'Authenticate-Request') return this.drop('unexpected-code')
      if (!this.started || this.finished) return this.drop('not-waiting')
      if (m.identifier !== this.identifier) return this.drop('identifier-mismatch')
      if (m.code === 'Authenticate-Ack') return this.succeed({ type: 'success', user: this.user, method: 'pap' })
      this.fail('bad-credentials', `PAP Authenticate-Nak: ${sanitizePeerText(fromUtf8(m.message))}`)
    })
  }

  handleVerdict(): void { this.drop('verdict-on-peer') }

  handleTimeout(now: Millis): void {
    if (this.deadline === undefined || now < this.deadline || this.finished) return
    if (this.retries >= this.maxRetries) return this.fail('timeout', `no PAP reply after ${this.retries + 1} Authenticate-Requests`)
    this.retries++
    // RFC 1334 §2.2.1: "The Identifier field MUST be changed each time an Authenticate-Request packet is issued."
    this.identifier = (this.identifier + 1) & 0xff
    this.transmit(now)
  }
}

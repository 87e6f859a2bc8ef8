// SSTP server stream core: [MS-SSTP] §3.3.1.1.1 (server call establishment states), §3.3.5 (message processing),
// §3.3.5.2.3 (Call Connected: crypto binding check before PPP data flows), §4.1 (HTTPS layer), sans-IO.
import type { Millis } from '../lib/time.js'
import type { AuthKeys } from '../auth/types.js'
import { SstpConnectionBase } from './connection-base.js'
import type { SstpCommonOptions } from './connection-base.js'
import { HttpHeadReader, checkSstpRequest, encodeHttpError, encodeSstpResponse } from './preamble.js'
import { SstpAttribStatus, SstpAttributeId, SstpEncapsulatedProtocol, SstpHashProtocol, SSTP_NONCE_LENGTH } from './attributes.js'
import { SstpMessageType, encodeControlPacket } from './messages.js'
import type { SstpControlMessage } from './messages.js'
import { deriveHlak, verifyCallConnected } from './crypto-binding.js'

export interface SstpServerOptions extends SstpCommonOptions {
  /** SHA-256 of OUR certificate's DER: the Cert Hash a genuine client reports (§2.2.7). */
  readonly certHashSha256: Uint8Array
  /** SHA-1 of our certificate's DER; needed only when SHA-1 is offered. */
  readonly certHashSha1?: Uint8Array
  /**
   * Offer SHA-1 as well as SHA-256 in the Crypto Binding Request (§2.2.6 allows both bits), for clients that only do
   * SHA-1 (early Vista). Clients that can do SHA-256 pick it when both are offered. Default: true when certHashSha1
   * is given, else false.
   */
  readonly allowSha1?: boolean
  /** Value of the Server header in the 200 response; default as Windows sends it (§4.1). */
  readonly serverHeader?: string
  /** Limit on the HTTP request head; default 8192 bytes. */
  readonly maxHeadBytes?: number
  /** Call Connect Requests with an unsupported protocol we Nak before aborting; default 3. */
  readonly maxNaks?: number
}

export type SstpServerState = 'wait-http' | 'connect-request-pending' | 'call-connected-pending' | 'call-connected'

/**
 * One SSTP connection accepted by the gateway, from the first decrypted byte on. Outputs: pollTransmit (bytes for the
 * TLS socket), pollEvent (SstpEvent), nextTimeout. Peer bytes never make it throw; each violation is counted and
 * ends only this connection.
 */
export class SstpServerConnection extends SstpConnectionBase<SstpServerState> {
  private readonly opts: SstpServerOptions
  private readonly head: HttpHeadReader
  private readonly offeredBitmask: number
  private nonce: Uint8Array | undefined
  private hlak: Uint8Array | undefined
  private naks = 0
  /** The client's SSTPCORRELATIONID header, for logs. */
  correlationId: string | undefined

  constructor(opts: SstpServerOptions, now: Millis = opts.now ?? 0) {
    super(opts, 'wait-http', 'sstp-server')
    this.opts = opts
    if (opts.certHashSha256.length !== 32) throw new RangeError('certHashSha256 must be 32 bytes')
    const sha1 = opts.allowSha1 ?? opts.certHashSha1 !== undefined
    if (sha1 && opts.certHashSha1?.length !== 20) throw new RangeError('offering SHA-1 needs a 20-byte certHashSha1')
    this.head = new HttpHeadReader(opts.maxHeadBytes)
    this.offeredBitmask = SstpHashProtocol.Sha256 | (sha1 ? SstpHashProtocol.Sha1 : 0)
    this.stateDeadline = now + this.negotiationMs
  }

  protected inHttpPhase(): boolean { return this.state === 'wait-http' }

  protected handleHttp(now: Millis, chunk: Uint8Array): Uint8Array | undefined {
    const r = this.head.push(chunk)
    if (r.state === 'more') return undefined
    if (r.state === 'error') {
      this.stats.inc(`http:${r.reason}`)
      this.send(r.reason === 'head-too-large' ? encodeHttpError(431, 'Request Header Fields Too Large') : encodeHttpError(400, 'Bad Request'))
      this.finish(now, 'protocol-error', `HTTP request refused: ${r.reason}`)
      return undefined
    }
    const check = checkSstpRequest(r.head)
    if (!check.ok) {
      this.stats.inc(`http:${check.reason}`)
      this.send(encodeHttpError(check.status, check.phrase))
      this.finish(now, 'protocol-error', `HTTP ${check.status}: ${check.message}`)
      return undefined
    }
    this.correlationId = check.correlationId
    this.send(encodeSstpResponse(this.opts.serverHeader))
    this.enter('connect-request-pending')
    this.stateDeadline = now + this.negotiationMs
    return r.rest
  }

  protected pppActive(): boolean { return this.state === 'call-connected-pending' || this.state === 'call-connected' }

  protected handleControl(now: Millis, msg: SstpControlMessage, packet: Uint8Array): void {
    if (msg.messageType === SstpMessageType.CallConnectRequest && this.state === 'connect-request-pending') {
      this.handleConnectRequest(now, msg)
      return
    }
    if (msg.messageType === SstpMessageType.CallConnected && this.state === 'call-connected-pending') {
      this.handleCallConnected(now, packet)
      return
    }
    // Anything else in these states is an invalid message: abort (§3.3.5.2.x "Else ... Send an SSTP_MSG_CALL_ABORT").
    this.stats.inc('unexpected-message')
    this.abort(now, 'protocol-error', `unexpected message type ${msg.messageType} in state ${this.state}`, SstpAttribStatus.UnacceptedFrameReceived, SstpAttributeId.NoError)
  }

  private handleConnectRequest(now: Millis, msg: SstpControlMessage): void {
    let protocolOk = false
    let statusError = false
    for (const a of msg.attributes) {
      if (a.attribute === 'encapsulatedProtocolId') protocolOk = a.protocolId === SstpEncapsulatedProtocol.Ppp
      if (a.attribute === 'statusInfo' && a.status !== SstpAttribStatus.NoError) statusError = true
    }
    if (!protocolOk || statusError) {
      // §3.3.1.1.1: unacceptable request -> Call Connect Nak listing what we support (§3.1.5.1: "MUST include the list
      // of attributes that are not acceptable and the reason").
      this.naks++
      this.stats.inc('nak-sent')
      if (this.naks > (this.opts.maxNaks ?? 3)) {
        this.abort(now, 'protocol-error', 'too many unacceptable Call Connect Requests', SstpAttribStatus.RetryCountExceeded, SstpAttributeId.EncapsulatedProtocolId)
        return
      }
      this.send(encodeControlPacket({
        messageType: SstpMessageType.CallConnectNak,
        attributes: [{ attribute: 'statusInfo', attribId: SstpAttributeId.EncapsulatedProtocolId, status: SstpAttribStatus.ValueNotSupported, value: new Uint8Array([0x00, SstpEncapsulatedProtocol.Ppp]) }],
      }))
      this.stateDeadline = now + this.negotiationMs
      return
    }
    this.nonce = this.common.rng.bytes(SSTP_NONCE_LENGTH)
    this.send(encodeControlPacket({
      messageType: SstpMessageType.CallConnectAck,
      attributes: [{ attribute: 'cryptoBindingRequest', hashBitmask: this.offeredBitmask, nonce: this.nonce }],
    }))
    this.enter('call-connected-pending')
    this.stateDeadline = now + this.negotiationMs
    this.ppp = this.common.createPpp(now)
    this.ppp.open(now)
  }

  private handleCallConnected(now: Millis, packet: Uint8Array): void {
    if (!this.hlak || !this.nonce) {
      this.stats.inc('binding:before-auth')
      this.abort(now, 'crypto-binding-failed', 'Call Connected before PPP authentication completed', SstpAttribStatus.UnacceptedFrameReceived, SstpAttributeId.CryptoBinding)
      return
    }
    const result = verifyCallConnected(packet, {
      offeredBitmask: this.offeredBitmask, nonce: this.nonce, hlak: this.hlak,
      certHashSha256: this.opts.certHashSha256, ...(this.opts.certHashSha1 ? { certHashSha1: this.opts.certHashSha1 } : {}),
    })
    this.hlak.fill(0)
    if (!result.ok) {
      this.stats.inc(`binding:${result.reason}`)
      this.abort(now, 'crypto-binding-failed', result.message, SstpAttribStatus.InvalidFrameReceived, SstpAttributeId.CryptoBinding)
      return
    }
    this.stats.inc(result.hashProtocol === SstpHashProtocol.Sha256 ? 'binding:ok-sha256' : 'binding:ok-sha1')
    this.enter('call-connected')
    this.stateDeadline = undefined
    this.dataOpen = true
    this.startHello(now)
    this.maybeUp()
  }

  protected onAuthenticated(_now: Millis, keys: AuthKeys | undefined): void {
    // Inner Authentication Completed Event (§3.3.7.x): keep the HLAK for the Call Connected check.
    this.hlak = deriveHlak(keys, 'server')
  }

  protected onNegotiationTimeout(now: Millis): void {
    this.stats.inc(`timeout:${this.state}`)
    if (this.state === 'wait-http') { this.finish(now, 'timeout', 'no SSTP HTTP request in time'); return }
    this.abort(now, 'timeout', `negotiation timer expired in ${this.state}`, SstpAttribStatus.NegotiationTimeout, SstpAttributeId.NoError)
  }
}

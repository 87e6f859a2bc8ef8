// SSTP client stream core: [MS-SSTP] §3.2.1.1.1 (client call establishment states), §3.2.5 (message processing),
// §3.2.5.2 (crypto binding sent in Call Connected after PPP authentication), §4.1 (HTTPS layer), sans-IO.
import type { Millis } from '../lib/time.js'
import type { AuthKeys } from '../auth/types.js'
import { SstpConnectionBase } from './connection-base.js'
import type { SstpCommonOptions } from './connection-base.js'
import { HttpHeadReader, checkSstpResponse, encodeSstpRequest, formatCorrelationId } from './preamble.js'
import { SstpAttribStatus, SstpAttributeId, SstpEncapsulatedProtocol } from './attributes.js'
import { SstpMessageType, encodeControlPacket } from './messages.js'
import type { SstpControlMessage } from './messages.js'
import { buildCallConnected, certificateHashes, chooseHashProtocol, deriveHlak, hashLength } from './crypto-binding.js'

export interface SstpClientOptions extends SstpCommonOptions {
  /** Host header: the server name the TLS connection was made to. */
  readonly host: string
  /** SSTPCORRELATIONID; default a random "{GUID}" from rng. */
  readonly correlationId?: string
  /** The server certificate (DER) as received in the TLS handshake; or give its hashes with setServerCertHashes. */
  readonly serverCertDer?: Uint8Array
  /** Or the hashes of the server certificate's DER (what the transport computed after the handshake). */
  readonly certHashSha256?: Uint8Array
  readonly certHashSha1?: Uint8Array
  /** Call Connect Naks tolerated before aborting (§3.2.5.3.3 "an implementation-dependent number"); default 3. */
  readonly maxNakRetries?: number
  readonly maxHeadBytes?: number
}

export type SstpClientState = 'wait-http-response' | 'connect-request-sent' | 'connect-ack-received' | 'call-connected'

function connectRequest(): Uint8Array {
  return encodeControlPacket({ messageType: SstpMessageType.CallConnectRequest, attributes: [{ attribute: 'encapsulatedProtocolId', protocolId: SstpEncapsulatedProtocol.Ppp }] })
}

/**
 * Our side of an SSTP tunnel, starting right after the TLS handshake: the HTTP request is queued at construction.
 * Same outputs as the server core. The crypto binding needs the server certificate hash: pass serverCertDer, or call
 * setServerCertHashes before PPP authentication completes.
 */
export class SstpClientConnection extends SstpConnectionBase<SstpClientState> {
  private readonly opts: SstpClientOptions
  private readonly head: HttpHeadReader
  private certSha1: Uint8Array | undefined
  private certSha256: Uint8Array | undefined
  private nonce: Uint8Array | undefined
  private bitmask = 0
  private naks = 0
  readonly correlationId: string

  constructor(opts: SstpClientOptions, now: Millis = opts.now ?? 0) {
    super(opts, 'wait-http-response', 'sstp-client')
    this.opts = opts
    this.head = new HttpHeadReader(opts.maxHeadBytes)
    this.correlationId = opts.correlationId ?? formatCorrelationId(opts.rng.bytes(16))
    if (opts.serverCertDer) this.setServerCertDer(opts.serverCertDer)
    this.setServerCertHashes({ ...(opts.certHashSha1 ? { sha1: opts.certHashSha1 } : {}), ...(opts.certHashSha256 ? { sha256: opts.certHashSha256 } : {}) })
    this.send(encodeSstpRequest(opts.host, this.correlationId))
    // §4.1: "the client initiates a timer (for 60 seconds) ... A response is expected within 60 seconds."
    this.stateDeadline = now + this.negotiationMs
  }

  setServerCertDer(der: Uint8Array): void {
    const h = certificateHashes(der)
    this.certSha1 = h.sha1
    this.certSha256 = h.sha256
  }

  setServerCertHashes(hashes: { readonly sha1?: Uint8Array; readonly sha256?: Uint8Array }): void {
    if (hashes.sha1) this.certSha1 = new Uint8Array(hashes.sha1)
    if (hashes.sha256) this.certSha256 = new Uint8Array(hashes.sha256)
  }

  protected inHttpPhase(): boolean { return this.state === 'wait-http-response' }

  protected handleHttp(now: Millis, chunk: Uint8Array): Uint8Array | undefined {
    const r = this.head.push(chunk)
    if (r.state === 'more') return undefined
    if (r.state === 'error') {
      this.stats.inc(`http:${r.reason}`)
      this.finish(now, 'protocol-error', `bad HTTP response: ${r.reason}`)
      return undefined
    }
    const check = checkSstpResponse(r.head)
    if (!check.ok) {
      this.stats.inc(`http:${check.reason}`)
      this.finish(now, 'http-refused', check.message)
      return undefined
    }
    // §3.2.1.1.1: on HTTPS connection completion, send Call Connect Request and start the Negotiation timer.
    this.send(connectRequest())
    this.enter('connect-request-sent')
    this.stateDeadline = now + this.negotiationMs
    return r.rest
  }

  protected pppActive(): boolean { return this.state === 'connect-ack-received' || this.state === 'call-connected' }

  protected handleControl(now: Millis, msg: SstpControlMessage): void {
    if (this.state === 'connect-request-sent' && msg.messageType === SstpMessageType.CallConnectAck) {
      const req = msg.attributes[0]
      if (req?.attribute !== 'cryptoBindingRequest') return // cannot happen: the rules table requires it
      this.nonce = req.nonce
      this.bitmask = req.hashBitmask
      if (chooseHashProtocol(this.bitmask) === undefined) {
        this.stats.inc('binding:no-hash-protocol')
        this.abort(now, 'crypto-binding-failed', `server offers no known hash protocol (bitmask ${this.bitmask})`, SstpAttribStatus.ValueNotSupported, SstpAttributeId.CryptoBindingReq)
        return
      }
      this.enter('connect-ack-received')
      this.stateDeadline = now + this.negotiationMs // §3.2.2.1: restarted after receiving the Ack
      this.ppp = this.common.createPpp(now)
      this.ppp.open(now)
      return
    }
    if (this.state === 'connect-request-sent' && msg.messageType === SstpMessageType.CallConnectNak) {
      this.naks++
      this.stats.inc('nak-received')
      if (this.naks > (this.opts.maxNakRetries ?? 3)) {
        this.abort(now, 'protocol-error', 'server refused the Call Connect Request', SstpAttribStatus.RetryCountExceeded, SstpAttributeId.NoError)
        return
      }
      // §3.2.5.3.3: resend the request and restart the Negotiation timer.
      this.send(connectRequest())
      this.stateDeadline = now + this.negotiationMs
      return
    }
    this.stats.inc('unexpected-message')
    this.abort(now, 'protocol-error', `unexpected message type ${msg.messageType} in state ${this.state}`, SstpAttribStatus.UnacceptedFrameReceived, SstpAttributeId.NoError)
  }

  protected onAuthenticated(now: Millis, keys: AuthKeys | undefined): void {
    if (this.state !== 'connect-ack-received' || !this.nonce) return
    // Inner Authentication Completed Event (§3.2.7.1): send Call Connected with the crypto binding.
    const hp = chooseHashProtocol(this.bitmask)!
    const certHash = hashLength(hp) === 32 ? this.certSha256 : this.certSha1
    if (!certHash) {
      this.stats.inc('binding:no-server-cert')
      this.abort(now, 'crypto-binding-failed', 'no server certificate hash to bind to', SstpAttribStatus.InvalidFrameReceived, SstpAttributeId.CryptoBinding)
      return
    }
    const hlak = deriveHlak(keys, 'client')
    this.send(buildCallConnected({ hashProtocol: hp, nonce: this.nonce, certHash, hlak }))
    hlak.fill(0)
    this.enter('call-connected')
    this.stateDeadline = undefined
    this.dataOpen = true
    this.startHello(now)
    this.maybeUp()
  }

  protected onNegotiationTimeout(now: Millis): void {
    this.stats.inc(`timeout:${this.state}`)
    if (this.state === 'wait-http-response') { this.finish(now, 'timeout', 'no HTTP response from the SSTP server in time'); return }
    this.abort(now, 'timeout', `negotiation timer expired in ${this.state}`, SstpAttribStatus.NegotiationTimeout, SstpAttributeId.NoError)
  }
}

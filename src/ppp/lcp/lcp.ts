// LCP as an FsmStrategy: RFC 1661 §5.7-5.9 (Protocol-Reject, Echo, Discard), §6 option handling,
// §6.4 Magic-Number loop-back detection. Server asks for authentication, client agrees to it.
import type { Millis } from '../../lib/time.js'
import type { Rng } from '../../crypto/rng.js'
import { randomU32 } from '../../crypto/rng.js'
import type { PppAuthMethod } from '../auth/types.js'
import type { ConfigureVerdict, FsmStrategy } from '../fsm/fsm.js'
import type { FsmEvent } from '../fsm/table.js'
import { type ControlPacket, type PppOption, PppCode, copyOption, optionLengthOk, readU16, readU32, u16Option, u32Option } from '../fsm/packet.js'
import { DEFAULT_MRU, LCP_OPTIONS, LcpOption, MIN_MRU, decodeAuthOption, encodeAuthOption } from './options.js'

/** LCP codes beyond RFC 1661's (RFC 1570 §2). */
export const LcpExtraCode = { Identification: 12, TimeRemaining: 13 } as const

export interface LcpHooks {
  up(now: Millis): void
  down(now: Millis): void
  started(now: Millis): void
  finished(now: Millis): void
  /** The peer Protocol-Rejected one of our protocols (§5.7): stop sending it. */
  protocolRejected(now: Millis, protocol: number): void
  /** An Echo-Reply with the right magic arrived. */
  echoReply(now: Millis): void
}

export interface LcpConfig {
  readonly role: 'server' | 'client'
  readonly rng: Rng
  readonly mru: number
  /** Server: methods to ask for, preference order. */
  readonly authMethods: readonly PppAuthMethod[]
  /** Client: methods we agree to. */
  readonly acceptAuthMethods: readonly PppAuthMethod[]
  /** Consecutive loop-back detections before giving up (default 5). */
  readonly maxLoopback?: number
}

/**
 * LCP's side of the automaton. Reads agreed values (authByUs, authToPeer, peerMru, txPfc/txAcfc,
 * magic) after tlu; sets `failure` when negotiation cannot succeed (the session then closes).
 * Never throws on peer options.
 */
export class LcpStrategy implements FsmStrategy {
  readonly name = 'LCP'
  private readonly cfg: LcpConfig
  private readonly hooks: LcpHooks
  // What we ask for (ours); shrinks as the peer Rejects.
  private wantMru: number | undefined
  private authIndex = 0
  private wantAuth: boolean
  private wantMagic = true
  /** Our Magic-Number (0 once the peer rejected the option, §6.4). */
  magic: number
  private loopbacks = 0
  /** Client: methods we accept but Naked once toward our first choice (a server asking again gets its way). */
  private readonly preferenceNaked = new Set<PppAuthMethod>()
  /** Agreed with the peer. `authByUs`: the method we verify (our option Acked); `authToPeer`: the method we prove (peer's option Acked by us). */
  authByUs: PppAuthMethod | undefined
  authToPeer: PppAuthMethod | undefined
  /** Peer's MRU: the largest frame we may send. */
  peerMru = DEFAULT_MRU
  peerMagic = 0
  /** The peer asked for PFC/ACFC and we Acked: we may compress toward it. */
  txPfc = false
  txAcfc = false
  /** Set when negotiation cannot succeed; the session closes the link with this reason. */
  failure: string | undefined

  constructor(cfg: LcpConfig, hooks: LcpHooks) {
    this.cfg = cfg
    this.hooks = hooks
    this.wantMru = cfg.mru !== DEFAULT_MRU ? cfg.mru : undefined
    this.wantAuth = cfg.role === 'server' && cfg.authMethods.length > 0
    this.magic = this.newMagic()
  }

  private newMagic(): number { let m = 0; while (m === 0) m = randomU32(this.cfg.rng); return m }

  /** The auth method currently in our request (server). */
  get requestedAuth(): PppAuthMethod | undefined { return this.wantAuth ? this.cfg.authMethods[this.authIndex] : undefined }

  buildRequest(): readonly PppOption[] {
    const o: PppOption[] = []
    if (this.wantMru !== undefined) o.push(u16Option(LcpOption.MRU, this.wantMru))
    const auth = this.requestedAuth
    if (auth) o.push({ type: LcpOption.AuthenticationProtocol, data: encodeAuthOption(auth) })
    if (this.wantMagic) o.push(u32Option(LcpOption.MagicNumber, this.magic))
    return o
  }

  processRequest(options: readonly PppOption[]): ConfigureVerdict {
    const rej: PppOption[] = []
    const nak: PppOption[] = []
    let mru = DEFAULT_MRU, magic = 0, pfc = false, acfc = false
    let auth: PppAuthMethod | undefined
    let looped = false
    for (const o of options) {
      // Unknown options and known ones with a bad length are rejected (§5.4, like pppd).
      if (!optionLengthOk(LCP_OPTIONS, o)) { rej.push(copyOption(o)); continue }
      switch (o.type) {
        case LcpOption.MRU: {
          const v = readU16(o.data)
          if (v < MIN_MRU) nak.push(u16Option(LcpOption.MRU, MIN_MRU)); else mru = v
          break
        }
        case LcpOption.AuthenticationProtocol: {
          // We never authenticate ourselves to a client; a client agrees only to what it accepts.
          if (this.cfg.role === 'server' || this.cfg.acceptAuthMethods.length === 0) { rej.push(copyOption(o)); break }
          const m = decodeAuthOption(o.data)
          const first = this.cfg.acceptAuthMethods[0]!
          if (m !== undefined && this.cfg.acceptAuthMethods.includes(m) && (m === first || this.preferenceNaked.has(m))) auth = m
          else {
            // §6.2: a Nak names the protocol we would rather use. A method we accept but like less (EAP, whose
            // only method we speak is EAP-MS-CHAPv2) is Naked once toward our first choice, as Windows does:
            // SoftEther 5.01 asks for EAP and falls back to MS-CHAPv2 only on an LCP Nak (after an Ack it
            // proposes EAP-TLS and cannot leave EAP). A server that asks for it again gets it.
            if (m !== undefined && this.cfg.acceptAuthMethods.includes(m)) this.preferenceNaked.add(m)
            nak.push({ type: LcpOption.AuthenticationProtocol, data: encodeAuthOption(first) })
          }
          break
        }
        case LcpOption.MagicNumber: {
          const v = readU32(o.data)
          // §6.4: equal to ours means a looped-back link; Nak with a different value.
          if (v === 0 || (this.wantMagic && v === this.magic)) {
            if (v !== 0) { looped = true; this.magic = this.newMagic() }
            nak.push(u32Option(LcpOption.MagicNumber, this.newMagic()))
          } else magic = v
          break
        }
        case LcpOption.PFC: pfc = true; break
        case LcpOption.ACFC: acfc = true; break
      }
    }
    if (looped) {
      this.loopbacks++
      if (this.loopbacks >= (this.cfg.maxLoopback ?? 5)) this.failure = 'looped-back'
    } else this.loopbacks = 0
    if (rej.length > 0) return { kind: 'reject', options: rej }
    if (nak.length > 0) return { kind: 'nak', options: nak }
    this.peerMru = mru; this.peerMagic = magic; this.txPfc = pfc; this.txAcfc = acfc; this.authToPeer = auth
    return { kind: 'ack' }
  }

  processAck(options: readonly PppOption[]): void {
    const a = options.find((o) => o.type === LcpOption.AuthenticationProtocol)
    this.authByUs = a ? decodeAuthOption(a.data) : undefined
  }

  processNak(options: readonly PppOption[]): boolean {
    for (const o of options) {
      switch (o.type) {
        case LcpOption.MRU:
          if (o.data.length === 2) { const v = readU16(o.data); if (v >= MIN_MRU) this.wantMru = v }
          break
        case LcpOption.AuthenticationProtocol: {
          if (!this.wantAuth) break
          // Walk down our preference list: take the peer's suggestion if it is further down, else the next one.
          const list = this.cfg.authMethods
          const hint = decodeAuthOption(o.data)
          const at = hint === undefined ? -1 : list.indexOf(hint)
          const next = at > this.authIndex ? at : this.authIndex + 1
          if (next >= list.length) this.failure = 'auth-method-refused'
          else this.authIndex = next
          break
        }
        case LcpOption.MagicNumber:
          // §6.4: on a Nak of Magic-Number "a different Magic-Number MUST be chosen".
          this.magic = this.newMagic()
          break
        default: break // hints for options we do not want: ignore
      }
    }
    return true
  }

  processReject(options: readonly PppOption[]): boolean {
    for (const o of options) {
      switch (o.type) {
        case LcpOption.MRU: this.wantMru = undefined; break
        case LcpOption.AuthenticationProtocol: this.failure = 'auth-refused'; break
        case LcpOption.MagicNumber: this.wantMagic = false; this.magic = 0; break
      }
    }
    return true
  }

  up(now: Millis): void { this.hooks.up(now) }
  down(now: Millis): void { this.hooks.down(now) }
  started(now: Millis): void { this.hooks.started(now) }
  finished(now: Millis): void { this.hooks.finished(now) }

  classifyExtra(now: Millis, p: ControlPacket): { event: FsmEvent; reply?: ControlPacket } | 'drop' | undefined {
    switch (p.code) {
      case PppCode.ProtocolReject: {
        if (p.data.length < 2) return 'drop'
        const proto = readU16(p.data)
        // §5.7: a rejected LCP is catastrophic; any other protocol is merely to be stopped.
        if (proto === 0xc021) return { event: 'RXJ-' }
        this.hooks.protocolRejected(now, proto)
        return { event: 'RXJ+' }
      }
      case PppCode.EchoRequest:
      case PppCode.EchoReply:
      case PppCode.DiscardRequest: {
        if (p.data.length < 4) return 'drop'
        const m = readU32(p.data)
        // §6.4: our own magic coming back means a looped-back link; do not answer it.
        if (this.magic !== 0 && m === this.magic) return 'drop'
        if (p.code === PppCode.EchoRequest) {
          const data = p.data.slice()
          data[0] = this.magic >>> 24; data[1] = (this.magic >>> 16) & 0xff; data[2] = (this.magic >>> 8) & 0xff; data[3] = this.magic & 0xff
          return { event: 'RXR', reply: { code: PppCode.EchoReply, identifier: p.identifier, data } }
        }
        if (p.code === PppCode.EchoReply) this.hooks.echoReply(now)
        return { event: 'RXR' }
      }
      // RFC 1570 §2.1/§2.2 Identification and Time-Remaining (Windows sends both after auth):
      // informational only; accept silently rather than Code-Reject them.
      case LcpExtraCode.Identification:
      case LcpExtraCode.TimeRemaining:
        return 'drop'
      default: return undefined
    }
  }

  /** Code-Reject of a negotiation/termination code is catastrophic; of Echo/Discard/Protocol-Reject it is not. */
  codeRejectIsFatal(code: number): boolean { return code >= 1 && code <= 7 }
}

/**
 * Protocol-Reject Data (§5.7): Rejected-Protocol then Rejected-Information, "truncated to comply
 * with the peer's established MRU" (4 octets of header and 2 of protocol count against it).
 */
export function protocolRejectData(protocol: number, info: Uint8Array, peerMru: number): Uint8Array {
  const data = new Uint8Array(2 + Math.min(info.length, Math.max(0, peerMru - 6)))
  data[0] = (protocol >>> 8) & 0xff
  data[1] = protocol & 0xff
  data.set(info.subarray(0, data.length - 2), 2)
  return data
}

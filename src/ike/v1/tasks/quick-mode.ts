// IKEv1 Quick Mode (RFC 2409 §5.5), both roles: HASH(1)/(2)/(3), one ESP proposal (transport or tunnel,
// UDP-encapsulated under NAT per RFC 3947 §5.1), nonces, optional PFS KE, IDci/IDcr, NAT-OA (RFC 3947
// §5.2), and KEYMAT per direction keyed by the receiver's SPI.
import { constantTimeEqual } from '../../../lib/bytes.js'
import type { Rng } from '../../../crypto/rng.js'
import { randomU32 } from '../../../crypto/rng.js'
import { espEncryptionForIkev1, espIntegrityForIkev1, espKeyMaterialLength } from '../../../esp/algorithms.js'
import type { EspEncryptionAlgorithm, EspIntegrityAlgorithm } from '../../../esp/algorithms.js'
import { Doi, IdType, NotifyType, ProtocolId, Situation } from '../constants.js'
import { DhExchange } from '../crypto/dh.js'
import { quickHash1, quickHash2, quickHash3, quickModeKeymat } from '../crypto/keys.js'
import { bytesAfterFirstPayload } from '../crypto/protect.js'
import { encodePayloadChain, payloadBody } from '../message/message.js'
import type { IsakmpPayload } from '../message/payloads.js'
import type { MessageRuleName } from '../message/exchange-rules.js'
import { EncapsulationMode, IpsecAttr, LifeType, baseEncapsulation, isUdpEncapsulated } from '../oakley.js'
import { ByteWriter } from '../../../lib/bytes.js'
import { attributesLength, encodeAttributes, numericAttribute } from '../message/attributes.js'
import { buildEspTransform, parseEspTransform, parseResponderLifetime } from '../proposal/transforms.js'
import type { EspTransform } from '../proposal/transforms.js'
import { responderSa, selectEsp } from '../proposal/select.js'
import type { IkeSaV1 } from '../ike-sa.js'
import type { InboundV1, TaskStep, V1Task } from './types.js'

/** A traffic selector as IKEv1 carries it: an ID payload (RFC 2407 §4.6.2) with protocol and port. */
export interface TrafficSelector { readonly idType: number; readonly protocol: number; readonly port: number; readonly data: Uint8Array }
export type EspMode = 'transport' | 'tunnel'

/** One host, e.g. L2TP/IPsec transport mode as Windows proposes it: UDP (17) port 1701 on each host. */
export function hostSelector(address: Uint8Array, protocol = 0, port = 0): TrafficSelector {
  return { idType: address.length === 4 ? IdType.Ipv4Addr : IdType.Ipv6Addr, protocol, port, data: address }
}
/** An IPv4 subnet (RFC 2407 §4.6.2.4: address then mask). */
export function ipv4SubnetSelector(address: Uint8Array, prefix: number): TrafficSelector {
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0
  return { idType: IdType.Ipv4AddrSubnet, protocol: 0, port: 0, data: Uint8Array.of(...address, mask >>> 24, (mask >>> 16) & 0xff, (mask >>> 8) & 0xff, mask & 0xff) }
}

export interface ChildSaDirection { readonly spi: number; readonly keymat: Uint8Array }
/** What an established quick mode hands to the ESP layer. The receiver owns (and must zero) the KEYMATs. */
export interface ChildSaParams {
  readonly mode: EspMode
  /** The negotiated Encapsulation Mode attribute (3/4 or 61443/61444 when UDP-encapsulated). */
  readonly encapsulation: number
  readonly natT: boolean
  /** Peer -> us: our SPI, KEYMAT = prf(SKEYID_d, protocol | our SPI | Ni_b | Nr_b). */
  readonly inbound: ChildSaDirection
  /** Us -> peer: the peer's SPI. */
  readonly outbound: ChildSaDirection
  readonly encryption: EspEncryptionAlgorithm
  readonly integrity: EspIntegrityAlgorithm | undefined
  /** From our point of view (local = our side, remote = the peer's); undefined when no IDci/IDcr were sent. */
  readonly selectors: { readonly local: TrafficSelector; readonly remote: TrafficSelector } | undefined
  readonly lifetimeSeconds: number | undefined
  readonly pfs: boolean
}

export interface QuickModeOptions {
  readonly rng: Rng
  /** Initiator: ESP transforms offered, best first (Encapsulation Mode is set by the task). */
  readonly proposals: readonly EspTransform[]
  readonly mode: EspMode
  /** Initiator: a DH group for PFS (RFC 2409 §5.5), or undefined. */
  readonly pfsGroup?: number
  /** Initiator: IDci (ours) / IDcr (the peer's). */
  readonly selectors?: { readonly local: TrafficSelector; readonly remote: TrafficSelector }
  /** Responder: ESP policy. */
  readonly accept: (t: EspTransform) => boolean
  /** Responder: may these selectors (ours, the peer's) be used? (Ignored when `acceptChild` is given.) */
  readonly acceptSelectors: (local: TrafficSelector, remote: TrafficSelector) => boolean
  /**
   * Responder, per-peer policy (replaces the `mode` + `acceptSelectors` check): true accepts this mode
   * with these selectors (ours, the peer's; undefined when no IDci/IDcr came), a string refuses with that
   * reason. Must be pure: it may be asked about a mode the peer did not offer, to pick the right notify.
   */
  readonly acceptChild?: (mode: EspMode, local: TrafficSelector | undefined, remote: TrafficSelector | undefined) => true | string
  /** True for an inbound SPI already taken (by any IKE SA of the endpoint or the ESP demux): draw again. */
  readonly spiInUse?: (spi: number) => boolean
  /**
   * Whether we start this quick mode. Either end of an ISAKMP SA may (RFC 2409 §5.5), e.g. to rekey;
   * default: the ISAKMP SA's role.
   */
  readonly initiator?: boolean
  /**
   * Responder: the longest child lifetime local policy allows (seconds). A shorter value than offered
   * is answered with RESPONDER-LIFETIME (RFC 2407 §4.6.3.1) and used for the child.
   */
  readonly lifetimeSeconds?: number
}

const NONCE_LENGTH = 32
/** RFC 2407 §4.5: "If unspecified, the default value shall be assumed to be 28800 seconds (8 hours)." */
export const DEFAULT_CHILD_LIFETIME_SECONDS = 28800
const fail = (reason: string, notify?: number): TaskStep => ({ kind: 'failed', reason, ...(notify !== undefined ? { notify } : {}) })
const be32 = (n: number): Uint8Array => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff)
const u32 = (b: Uint8Array): number => ((b[0]! << 24) >>> 0) + ((b[1]! << 16) | (b[2]! << 8) | b[3]!)
const idOf = (s: TrafficSelector): IsakmpPayload => ({ payload: 'id', idType: s.idType, protocolId: s.protocol, port: s.port, data: s.data })
const selOf = (p: IsakmpPayload): TrafficSelector => (p.payload === 'id' ? { idType: p.idType, protocol: p.protocolId, port: p.port, data: p.data } : { idType: 0, protocol: 0, port: 0, data: new Uint8Array(0) })

/** RFC 3947 §5.1 encapsulation mode for a mode under NAT-T (draft numbers for draft peers). */
export function encapsulationFor(mode: EspMode, sa: IkeSaV1): number {
  if (!sa.natDetected) return mode === 'tunnel' ? EncapsulationMode.Tunnel : EncapsulationMode.Transport
  const draft = sa.natT!.dialect !== 'rfc3947'
  if (mode === 'tunnel') return draft ? EncapsulationMode.UdpTunnelDraft : EncapsulationMode.UdpTunnel
  return draft ? EncapsulationMode.UdpTransportDraft : EncapsulationMode.UdpTransport
}

export class QuickModeTask implements V1Task {
  readonly messageId: number
  private readonly sa: IkeSaV1
  private readonly o: QuickModeOptions
  /** True when we sent quick mode 1. */
  readonly initiator: boolean
  private step = 0
  private lifetime: number | undefined
  /** Our inbound SPI (the one we propose or answer with). */
  readonly spiIn: Uint8Array
  /** Responder: the initiator's proposed SPI, known as soon as quick mode 1 authenticates (for an error notify). */
  peerSpi: Uint8Array | undefined
  private spiOut: Uint8Array | undefined
  private ni: Uint8Array | undefined
  private nr: Uint8Array | undefined
  private dh: DhExchange | undefined
  private offered: EspTransform[] = []
  private chosen: EspTransform | undefined
  private selectors: ChildSaParams['selectors']
  private mode: EspMode
  /** Responder: why the per-peer policy (`acceptChild`) refused this quick mode, if it did. */
  policyRefusal: string | undefined
  /** Set once the child SA is agreed: the initiator after main 2, the responder after main 3. */
  result: ChildSaParams | undefined

  constructor(sa: IkeSaV1, o: QuickModeOptions, messageId: number) {
    this.sa = sa
    this.o = o
    this.messageId = messageId
    this.initiator = o.initiator ?? sa.role === 'initiator'
    this.mode = o.mode
    // RFC 4303 §2.1: SPIs 1..255 are reserved by IANA; 0 is local use. Draw until outside them.
    let spi = 0
    while (spi < 256 || o.spiInUse?.(spi)) spi = randomU32(o.rng)
    this.spiIn = be32(spi)
  }

  expects(): MessageRuleName | undefined {
    const order: readonly (MessageRuleName | undefined)[] = this.initiator ? ['quickMode2', undefined] : ['quickMode1', 'quickMode3', undefined]
    return order[this.step]
  }

  /** Initiator: quick mode 1 (HDR*, HASH(1), SA, Ni [, KE] [, IDci, IDcr] [, NAT-OAi, NAT-OAr]). */
  start(): IsakmpPayload[] {
    const enc = encapsulationFor(this.o.mode, this.sa)
    this.offered = this.o.proposals.map((t) => ({ ...t, encapsulation: enc, ...(this.o.pfsGroup !== undefined ? { group: this.o.pfsGroup } : {}) }))
    this.ni = this.o.rng.bytes(NONCE_LENGTH)
    const rest: IsakmpPayload[] = [
      { payload: 'sa', doi: Doi.Ipsec, situation: Situation.IdentityOnly, proposals: [{ number: 1, protocolId: ProtocolId.IpsecEsp, spi: this.spiIn, transforms: this.offered.map((t, i) => buildEspTransform(i + 1, t)) }] },
      { payload: 'nonce', data: this.ni },
    ]
    if (this.o.pfsGroup !== undefined) { this.dh = new DhExchange(this.o.pfsGroup, this.o.rng); rest.push({ payload: 'ke', data: this.dh.publicValue }) }
    if (this.o.selectors) { this.selectors = this.o.selectors; rest.push(idOf(this.o.selectors.local), idOf(this.o.selectors.remote)) }
    if (this.o.mode === 'transport' && this.sa.natDetected && this.o.selectors) {
      // RFC 3947 §5.2: in transport mode both ends send NAT-OA (the initiator's and the responder's original addresses).
      const draft = this.sa.natT!.dialect !== 'rfc3947'
      for (const s of [this.o.selectors.local, this.o.selectors.remote]) if (s.idType === IdType.Ipv4Addr || s.idType === IdType.Ipv6Addr) rest.push({ payload: 'natOa', draft, idType: s.idType, address: s.data })
    }
    const k = this.sa.keys!
    return [{ payload: 'hash', data: quickHash1(k.hash, k.a, this.messageId, encodePayloadChain(rest)) }, ...rest]
  }

  process(msg: InboundV1): TaskStep {
    const k = this.sa.keys!
    const hashP = msg.payloads[0]
    if (!hashP || hashP.payload !== 'hash') return { kind: 'ignore', reason: 'no-hash' }
    const body = (name: string): Uint8Array => { const i = msg.payloads.findIndex((p) => p.payload === name); return payloadBody(msg.bytes, msg.spans[i]!) }
    if (!this.initiator && this.step === 0) {
      const want = quickHash1(k.hash, k.a, this.messageId, bytesAfterFirstPayload(msg.bytes, msg))
      if (!constantTimeEqual(want, hashP.data)) return { kind: 'ignore', reason: 'hash1' }
      return this.respond(msg, body)
    }
    if (this.initiator && this.step === 0) {
      const want = quickHash2(k.hash, k.a, this.messageId, this.ni!, bytesAfterFirstPayload(msg.bytes, msg))
      if (!constantTimeEqual(want, hashP.data)) return { kind: 'ignore', reason: 'hash2' }
      const r = this.takeResponse(msg, body)
      if (r) return r
      this.step = 1
      return { kind: 'reply', payloads: [{ payload: 'hash', data: quickHash3(k.hash, k.a, this.messageId, this.ni!, this.nr!) }], encrypted: true, done: true }
    }
    if (!this.initiator && this.step === 1) {
      const want = quickHash3(k.hash, k.a, this.messageId, this.ni!, this.nr!)
      if (!constantTimeEqual(want, hashP.data)) return { kind: 'ignore', reason: 'hash3' }
      this.step = 2
      return { kind: 'wait', done: true }
    }
    return { kind: 'ignore', reason: 'unexpected' }
  }

  private respond(msg: InboundV1, body: (n: string) => Uint8Array): TaskStep {
    const sa = msg.payloads.find((p) => p.payload === 'sa')
    if (!sa || sa.payload !== 'sa') return fail('quick mode 1: no SA', NotifyType.PayloadMalformed)
    const firstSpi = sa.proposals[0]?.spi
    if (firstSpi && firstSpi.length === 4) this.peerSpi = new Uint8Array(firstSpi)
    const ke = msg.payloads.find((p) => p.payload === 'ke')
    const natted = this.sa.natDetected
    const ids = msg.payloads.filter((p) => p.payload === 'id')
    // IDci is the initiator's side, IDcr ours (RFC 2409 §5.5).
    const local = ids.length === 2 ? selOf(ids[1]!) : undefined, remote = ids.length === 2 ? selOf(ids[0]!) : undefined
    const verdicts = new Map<EspMode, true | string>()
    const ask = (m: EspMode): true | string => { let v = verdicts.get(m); if (v === undefined) { v = this.o.acceptChild!(m, local, remote); verdicts.set(m, v) } return v }
    const modeAllowed = (m: EspMode): boolean => (this.o.acceptChild ? ask(m) === true : m === this.o.mode)
    const choice = selectEsp(sa, (t) => {
      const mode = t.encapsulation === undefined ? undefined : baseEncapsulation(t.encapsulation)
      // RFC 3947 §5.1: under NAT the UDP-encapsulated modes; without NAT the plain ones.
      if (mode === undefined || isUdpEncapsulated(t.encapsulation!) !== natted || !modeAllowed(mode)) return false
      if ((t.group !== undefined) !== (ke !== undefined)) return false
      return this.o.accept(t)
    })
    if (this.o.acceptChild && verdicts.size > 0 && ![...verdicts.values()].includes(true)) {
      // The policy refused every mode offered. RFC 2409 §5.5: "If the client identities are not acceptable
      // to the Quick Mode responder (due to policy or other reasons), a Notify payload with Notify Message
      // Type INVALID-ID-INFORMATION (18) SHOULD be sent." When the other mode would pass with the same
      // identities, it is the proposal that is wrong: NO-PROPOSAL-CHOSEN (RFC 2408 §5.8 is silent on modes).
      const reason = [...verdicts.values()].find((v): v is string => v !== true)!
      this.policyRefusal = reason
      const otherOk = (['transport', 'tunnel'] as const).some((m) => !verdicts.has(m) && ask(m) === true)
      return fail(`quick mode 1: refused by policy (${reason})`, ids.length === 2 && !otherOk ? NotifyType.InvalidIdInformation : NotifyType.NoProposalChosen)
    }
    if (!('parsed' in choice)) return fail(`quick mode 1: no proposal chosen (${choice.reasons.join('; ')})`, choice.notify)
    if (local && remote) {
      if (!this.o.acceptChild && !this.o.acceptSelectors(local, remote)) return fail('quick mode 1: traffic selectors refused', NotifyType.InvalidIdInformation)
      this.selectors = { local, remote }
    }
    this.mode = baseEncapsulation(choice.parsed.encapsulation!)!
    this.chosen = choice.parsed
    this.spiOut = new Uint8Array(choice.proposal.spi)
    this.ni = new Uint8Array(body('nonce'))
    this.nr = this.o.rng.bytes(NONCE_LENGTH)
    const rest: IsakmpPayload[] = [{ payload: 'sa', ...responderSa(sa, choice, this.spiIn) }, { payload: 'nonce', data: this.nr }]
    this.lifetime = choice.parsed.seconds
    const policy = this.o.lifetimeSeconds
    if (policy !== undefined && policy < (choice.parsed.seconds || DEFAULT_CHILD_LIFETIME_SECONDS)) {
      // RFC 2407 §4.6.3.1: the responder tells the initiator the shorter lifetime it will keep.
      this.lifetime = policy
      rest.push(responderLifetimeNotify(this.spiIn, policy))
    }
    let gqmxy: Uint8Array | undefined
    if (ke && ke.payload === 'ke') {
      this.dh = new DhExchange(choice.parsed.group!, this.o.rng)
      gqmxy = this.dh.computeShared(ke.data)
      this.dh.destroy()
      if (!gqmxy) return fail('quick mode 1: unacceptable PFS KE', NotifyType.InvalidKeyInformation)
      rest.push({ payload: 'ke', data: this.dh.publicValue })
    }
    if (ids.length === 2) rest.push(ids[0]!, ids[1]!)
    const k = this.sa.keys!
    const hash2 = quickHash2(k.hash, k.a, this.messageId, this.ni, encodePayloadChain(rest))
    this.finish(gqmxy)
    this.step = 1
    return { kind: 'reply', payloads: [{ payload: 'hash', data: hash2 }, ...rest], encrypted: true, done: false }
  }

  private takeResponse(msg: InboundV1, body: (n: string) => Uint8Array): TaskStep | undefined {
    const sa = msg.payloads.find((p) => p.payload === 'sa')
    if (!sa || sa.payload !== 'sa') return fail('quick mode 2: no SA', NotifyType.PayloadMalformed)
    const prop = sa.proposals[0]
    if (sa.proposals.length !== 1 || !prop || prop.transforms.length !== 1 || prop.protocolId !== ProtocolId.IpsecEsp || prop.spi.length !== 4) return fail('quick mode 2: not one ESP proposal with one transform', NotifyType.BadProposalSyntax)
    const parsed = parseEspTransform(prop.transforms[0]!)
    if (!parsed.ok) return fail(`quick mode 2: ${parsed.reason}`, parsed.notify)
    const t = parsed.value
    if (!this.offered.some((q) => q.transformId === t.transformId && q.keyLength === t.keyLength && q.authAlgorithm === t.authAlgorithm && q.encapsulation === t.encapsulation && q.group === t.group)) return fail('quick mode 2: the responder chose a transform we did not offer', NotifyType.NoProposalChosen)
    this.chosen = t
    this.spiOut = new Uint8Array(prop.spi)
    this.nr = new Uint8Array(body('nonce'))
    this.lifetime = t.seconds
    const rl = msg.payloads.find((p) => p.payload === 'notify' && p.notifyType === NotifyType.ResponderLifetime)
    if (rl && rl.payload === 'notify') {
      // RFC 2407 §4.6.3.1: adopt the responder's lifetime when it is shorter than ours (never a longer one).
      let life: ReturnType<typeof parseResponderLifetime>
      try { life = parseResponderLifetime(rl.data) } catch { life = { ok: false, notify: NotifyType.PayloadMalformed, reason: 'responder lifetime attributes' } }
      if (life.ok && life.value.seconds !== undefined && life.value.seconds > 0 && life.value.seconds < (t.seconds ?? DEFAULT_CHILD_LIFETIME_SECONDS)) this.lifetime = life.value.seconds
    }
    let gqmxy: Uint8Array | undefined
    if (this.dh) {
      const ke = msg.payloads.find((p) => p.payload === 'ke')
      if (!ke || ke.payload !== 'ke') return fail('quick mode 2: PFS was offered but no KE came back', NotifyType.InvalidKeyInformation)
      gqmxy = this.dh.computeShared(ke.data)
      this.dh.destroy()
      if (!gqmxy) return fail('quick mode 2: unacceptable PFS KE', NotifyType.InvalidKeyInformation)
    }
    this.finish(gqmxy)
    return undefined
  }

  /** KEYMAT per direction (RFC 2409 §5.5): each direction is keyed by the SPI its receiver chose. */
  private finish(gqmxy: Uint8Array | undefined): void {
    const t = this.chosen!
    const encryption = espEncryptionForIkev1(t.transformId, t.keyLength)!
    const integrity = t.authAlgorithm === undefined ? undefined : espIntegrityForIkev1(t.authAlgorithm)
    const len = espKeyMaterialLength(encryption, integrity)
    const k = this.sa.keys!
    // Ni_b and Nr_b are the quick mode's initiator and responder nonces whichever side we are.
    const ni = this.ni!, nr = this.nr!
    const km = (spi: Uint8Array): Uint8Array => quickModeKeymat(k.hash, k.d, { protocol: ProtocolId.IpsecEsp, spi, niB: ni, nrB: nr, ...(gqmxy ? { gqmxy } : {}) }, len)
    this.result = {
      mode: this.mode, encapsulation: t.encapsulation!, natT: isUdpEncapsulated(t.encapsulation!),
      inbound: { spi: u32(this.spiIn), keymat: km(this.spiIn) }, outbound: { spi: u32(this.spiOut!), keymat: km(this.spiOut!) },
      encryption, integrity, selectors: this.selectors, lifetimeSeconds: this.lifetime, pfs: gqmxy !== undefined,
    }
    gqmxy?.fill(0)
  }
}

/**
 * RESPONDER-LIFETIME (RFC 2407 §4.6.3.1): protocol ESP, the responder's SPI, and as data the SA Life
 * Type / SA Life Duration attributes (seconds) the responder will keep.
 */
export function responderLifetimeNotify(spi: Uint8Array, seconds: number): IsakmpPayload {
  const attrs = [{ type: IpsecAttr.SaLifeType, value: LifeType.Seconds }, numericAttribute(IpsecAttr.SaLifeDuration, seconds)]
  const w = new ByteWriter(attributesLength(attrs))
  encodeAttributes(w, attrs)
  return { payload: 'notify', doi: Doi.Ipsec, protocolId: ProtocolId.IpsecEsp, spi, notifyType: NotifyType.ResponderLifetime, data: w.finish() }
}

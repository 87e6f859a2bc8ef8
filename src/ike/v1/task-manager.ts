// The IKEv1 task manager behind IkeV1Endpoint (DESIGN.md §4): SA lookup by cookies, decrypt/verify
// with IV discipline (RFC 2409 App. B: commit an IV only after the HASH verifies), message IDs,
// retransmission with back-off, the reply cache for retransmitted requests, half-open bounds.
// Entry state and small helpers live in ike-entry.ts.
import type { Endpoint } from '../../lib/endpoint.js'
import type { Millis } from '../../lib/time.js'
import { bytesEqual } from '../../lib/bytes.js'
import { Counters } from '../../lib/counters.js'
import { DecodeError } from '../../lib/errors.js'
import type { Rng } from '../../crypto/rng.js'
import { Doi, ExchangeType, HeaderFlag, ISAKMP_VERSION, NotifyType, PayloadType, ProtocolId } from './constants.js'
import { phase2Iv } from './crypto/cbc.js'
import { openMessage, sealMessage } from './crypto/protect.js'
import { checkHeader, checkPayload } from './message/checks.js'
import { EXCHANGE_RULES, checkMessage } from './message/exchange-rules.js'
import { decodeHeader, peekSpis } from './message/header.js'
import type { IsakmpHeader } from './message/header.js'
import { decodeMessage, encodeMessage, payloadBody } from './message/message.js'
import type { IsakmpPayload } from './message/payloads.js'
import { IkeSaV1 } from './ike-sa.js'
import { NEXT_MESSAGE, ZERO8, hex, newEntryLife, notifyName, plainNotify, remember } from './ike-entry.js'
import { V1Lifecycle } from './lifetimes.js'
import type { LifecycleOptions } from './lifetimes.js'
import { randomU32 } from '../../crypto/rng.js'
import { FragmentIo } from './fragment-io.js'
import type { FragmentationOptions } from './fragment-io.js'
import type { IkeV1Entry } from './ike-entry.js'
import type { IkeIdentity } from './ike-sa.js'
import { DEFAULT_ESP_PROPOSALS, newMessageId, readInformational, sealInformational, sendDelete } from './informational.js'
import { MainModeTask } from './tasks/main-mode.js'
import { AggressiveModeTask, aggressiveProposals } from './tasks/aggressive-mode.js'
import { OakleyAuth } from './oakley.js'
import type { IkeTrust, Signer } from './tasks/cert-auth.js'
import { QuickModeTask } from './tasks/quick-mode.js'
import type { EspMode, TrafficSelector } from './tasks/quick-mode.js'
import type { InboundV1, TaskStep, V1Task } from './tasks/types.js'
import type { EspTransform, Phase1Transform } from './proposal/transforms.js'
import type { AcceptChild, ChildSaRequest, ConnectOptions, PeerPolicy, IkeKeyLogEntry, IkeTransmit, IkeV1Event } from './endpoint.js'

export interface ManagerOptions {
  readonly local: Endpoint
  readonly rng: Rng
  readonly psk: (peer: Endpoint, id?: IkeIdentity) => Uint8Array | undefined
  /** Responder: take aggressive mode (RFC 2409 §5.4); otherwise answer INVALID-EXCHANGE-TYPE. */
  readonly aggressive: boolean
  readonly localId: IkeIdentity
  readonly phase1Proposals: readonly Phase1Transform[]
  readonly acceptPhase1: (t: Phase1Transform) => boolean
  readonly acceptEsp: (t: EspTransform) => boolean
  readonly mode: EspMode
  readonly acceptSelectors: (local: TrafficSelector, remote: TrafficSelector) => boolean
  readonly acceptChild?: AcceptChild
  readonly natT: boolean
  readonly retransmit: { readonly firstMs: number; readonly factor: number; readonly tries: number }
  readonly halfOpenPerAddress: number
  readonly halfOpenTotal: number
  readonly halfOpenTimeoutMs: number
  readonly maxAuthFailures: number
  readonly inboundSpiInUse: (spi: number) => boolean
  readonly authMethods: readonly number[]
  readonly signer?: Signer
  readonly trust?: IkeTrust
  readonly certLocalId?: IkeIdentity
  /** DPD, lifetimes and rekeying (lifetimes.ts); `childLifetimeSeconds` is the quick mode responder's policy. */
  readonly lifecycle: Omit<LifecycleOptions, 'rng' | 'retransmit'> & { readonly childLifetimeSeconds: number }
  /** IkeV1EndpointOptions.peerPolicy. */
  readonly peerPolicy?: (peer: Endpoint) => PeerPolicy | undefined
  /** Debug key log (IkeV1EndpointOptions.keyLog). */
  readonly keyLog?: (k: IkeKeyLogEntry) => void
  readonly fragmentation: FragmentationOptions
}

export class IkeV1Manager {
  readonly entries = new Map<string, IkeV1Entry>()
  readonly transmits: IkeTransmit[] = []
  readonly events: IkeV1Event[] = []
  readonly stats = new Counters()
  private readonly o: ManagerOptions
  readonly life: V1Lifecycle
  private readonly frags: FragmentIo

  constructor(o: ManagerOptions) {
    this.o = o
    this.life = new V1Lifecycle(this, { ...o.lifecycle, rng: o.rng, retransmit: o.retransmit })
    this.frags = new FragmentIo(o.fragmentation, this.stats)
  }

  /** Queues an ISAKMP message of `e`, split into fragments when the peer announced them and it is too large. */
  private emit(e: IkeV1Entry, data: Uint8Array): void {
    for (const d of this.frags.split(data, e.sa.peer, e.mm.peerFragmentation, e.sa.natDetected || e.sa.peer.port === 4500)) this.transmits.push({ to: e.sa.peer, data: d })
  }

  private newEntry(now: Millis, role: 'initiator' | 'responder', ckyI: Uint8Array, ckyR: Uint8Array, peer: Endpoint, initialContact: boolean, aggressive?: ConnectOptions): IkeV1Entry {
    const sa = new IkeSaV1(role, ckyI, ckyR, peer, this.o.local, now)
    const pp = this.o.peerPolicy?.(peer)
    const Task = aggressive?.aggressive ? AggressiveModeTask : MainModeTask
    const base = pp?.phase1Proposals ?? this.o.phase1Proposals
    const proposals = aggressive?.aggressive ? aggressiveProposals(base) : base
    const mm = new Task(sa, { rng: this.o.rng, proposals, accept: this.o.acceptPhase1, psk: this.o.psk, localId: aggressive?.id ?? this.o.localId, initialContact, natT: this.o.natT,
      authMethods: pp?.authMethods ?? this.o.authMethods, ...(this.o.signer ? { signer: this.o.signer } : {}), ...((pp?.trust ?? this.o.trust) ? { trust: pp?.trust ?? this.o.trust } : {}), ...(this.o.certLocalId ? { certLocalId: this.o.certLocalId } : {}) })
    const e: IkeV1Entry = { sa, mm, qm: new Map(), doneMids: new Set(), child: undefined, outstanding: undefined, cache: [], authFailures: 0, children: new Map(), life: newEntryLife(peer, now, randomU32(this.o.rng)) }
    this.entries.set(hex(ckyI), e)
    return e
  }

  connect(now: Millis, peer: Endpoint, child?: ChildSaRequest, opts?: ConnectOptions): string {
    let ckyI = this.o.rng.bytes(8)
    while (ckyI.every((b) => b === 0) || this.entries.has(hex(ckyI))) ckyI = this.o.rng.bytes(8)
    const firstContact = ![...this.entries.values()].some((e) => e.sa.peer.address === peer.address) && !this.life.hasChildrenWith(peer.address)
    const e = this.newEntry(now, 'initiator', ckyI, new Uint8Array(8), peer, firstContact, opts)
    if (opts) e.life.phase1 = opts
    e.child = child
    const payloads = e.mm.start()
    const bytes = encodeMessage(this.header(e.sa, e.mm.exchangeType, 0), payloads)
    const m1 = decodeMessage(bytes)
    e.mm.setSentSa(payloadBody(m1.bytes, m1.spans[0]!))
    this.send(now, e, bytes, `${e.mm.exchangeName} 1`)
    return hex(ckyI)
  }

  createChildSa(now: Millis, name: string, child: ChildSaRequest): number | undefined {
    const e = this.entries.get(name)
    if (!e || e.sa.state !== 'established') return undefined
    const mid = newMessageId(this.o.rng, (m) => e.qm.has(m) || e.doneMids.has(m))
    const qm = new QuickModeTask(e.sa, this.qmOptions(child), mid)
    e.qm.set(mid, qm)
    this.life.childRequested(e, mid, child)
    const k = e.sa.keys!
    const sealed = sealMessage(this.header(e.sa, ExchangeType.QuickMode, mid), qm.start(), k.cipher, k.encKey, phase2Iv(k.hash, k.cipher, e.sa.iv!, mid))
    e.sa.exchangeIvs.set(mid, sealed.nextIv)
    this.send(now, e, sealed.bytes, 'quick mode 1')
    return mid
  }

  deleteIkeSa(now: Millis, name: string, reason: string): void {
    const e = this.entries.get(name)
    if (!e) return
    if (e.sa.state === 'established') {
      const mid = newMessageId(this.o.rng, (m) => e.qm.has(m) || e.doneMids.has(m))
      this.transmits.push({ to: e.sa.peer, data: sealInformational(e.sa, mid, sendDelete(e.sa, [...e.children.keys()], true)) })
    }
    this.close(e, reason)
  }

  /** `e`: a responder's quick mode, under that peer's policy (acceptChild, else peerPolicy, else endpoint-wide). */
  private qmOptions(child: ChildSaRequest | undefined, e?: IkeV1Entry) {
    const pp = e ? this.o.peerPolicy?.(e.sa.peer) : undefined
    const policy = this.o.acceptChild
    return {
      rng: this.o.rng, proposals: child?.proposals ?? DEFAULT_ESP_PROPOSALS, mode: child?.mode ?? pp?.mode ?? this.o.mode,
      ...(child?.pfsGroup !== undefined ? { pfsGroup: child.pfsGroup } : {}), ...(child?.selectors ? { selectors: child.selectors } : {}),
      accept: this.o.acceptEsp, acceptSelectors: pp?.acceptSelectors ?? this.o.acceptSelectors, initiator: child !== undefined, lifetimeSeconds: this.o.lifecycle.childLifetimeSeconds,
      // Per-peer responder policy: the peer as authenticated in phase 1 (address and ID) goes with the question.
      ...(policy && e ? { acceptChild: (mode: EspMode, local: TrafficSelector | undefined, remote: TrafficSelector | undefined) => {
        const v = policy({ peer: e.sa.peer, peerId: e.sa.peerId!, mode, local, remote })
        return v === true ? true : v === false ? 'refused by policy' : v
      } } : {}),
      spiInUse: (spi: number) => this.o.inboundSpiInUse(spi) || this.life.children.has(spi) || [...this.entries.values()].some((x) => x.children.has(spi) || [...x.qm.values()].some((q) => Buffer.from(q.spiIn).readUInt32BE(0) === spi)),
    }
  }

  private header(sa: IkeSaV1, exchangeType: number, messageId: number) {
    return { initiatorCookie: sa.ckyI, responderCookie: sa.ckyR, version: ISAKMP_VERSION, exchangeType, flags: 0, messageId }
  }

  /** Sends and, when `waitFor` names it, keeps the message for retransmission until an answer arrives. */
  private send(now: Millis, e: IkeV1Entry, bytes: Uint8Array, waitFor: string | undefined): void {
    this.emit(e, bytes)
    e.outstanding = waitFor ? { bytes, what: waitFor, tries: 0, at: now + this.o.retransmit.firstMs } : undefined
  }

  private find(h: { initiatorCookie: Uint8Array; responderCookie: Uint8Array }): IkeV1Entry | undefined {
    const e = this.entries.get(hex(h.initiatorCookie))
    if (!e) return undefined
    // The initiator learns CKY-R from main mode 2; afterwards both cookies must match.
    if (bytesEqual(e.sa.ckyR, h.responderCookie)) return e
    if (e.sa.role === 'initiator' && bytesEqual(e.sa.ckyR, ZERO8)) return e
    if (e.sa.role === 'responder' && bytesEqual(h.responderCookie, ZERO8)) return e // a retransmitted main mode 1
    return undefined
  }

  handleDatagram(now: Millis, data: Uint8Array, from: Endpoint, nested = false): void {
    const peek = peekSpis(data)
    if (!peek) { this.stats.inc('drop:short'); return }
    const header = decodeHeader(data)
    const fault = checkHeader(header)
    if (fault) { this.stats.inc(`drop:header:${fault.field}`); return }
    let e = this.find(header)
    if (header.nextPayload === PayloadType.IkeFragment) {
      // Reassembled before decryption, rule checks and the reply cache, which then see the whole message
      // (a retransmitted fragmented MM5 compares equal to the first and gets the same MM6 back).
      if (!e || nested) { this.stats.inc(e ? 'drop:fragment:nested' : 'drop:fragment:unknown-sa'); return }
      const whole = this.frags.receive(now, hex(e.sa.ckyI), data)
      if (whole) this.handleDatagram(now, whole, from, true)
      return
    }
    for (const c of e?.cache ?? []) {
      if (bytesEqual(c.request, data.subarray(0, header.length))) {
        this.stats.inc('rx:retransmission')
        if (c.reply) this.emit(e!, c.reply)
        return
      }
    }
    if (!e) {
      const phase1 = header.exchangeType === ExchangeType.IdentityProtection || header.exchangeType === ExchangeType.Aggressive
      if (!phase1 || !bytesEqual(header.responderCookie, ZERO8) || header.messageId !== 0) { this.stats.inc('drop:unknown-cookies'); return }
      if (header.exchangeType === ExchangeType.Aggressive && !this.o.aggressive) {
        // Refused before any state or crypto. INVALID-EXCHANGE-TYPE (RFC 2408 §3.14.1, 7) names exactly what
        // is wrong, so the admin of a legitimate peer learns to use main mode; NO-PROPOSAL-CHOSEN would send
        // them hunting through suites. The reply is smaller than AM1 (no amplification) and holds no secret.
        this.stats.inc('refused:aggressive-mode')
        this.transmits.push({ to: from, data: encodeMessage({ initiatorCookie: header.initiatorCookie, responderCookie: ZERO8, version: ISAKMP_VERSION, exchangeType: ExchangeType.Informational, flags: 0, messageId: 0 }, [plainNotify(NotifyType.InvalidExchangeType)]) })
        return
      }
      const halfOpen = [...this.entries.values()].filter((x) => x.sa.role === 'responder' && x.sa.state === 'connecting')
      if (halfOpen.length >= this.o.halfOpenTotal) { this.stats.inc('drop:half-open-total'); return }
      if (halfOpen.filter((x) => x.sa.peer.address === from.address).length >= this.o.halfOpenPerAddress) { this.stats.inc('drop:half-open-limit'); return }
      const ckyR = this.o.rng.bytes(8)
      e = this.newEntry(now, 'responder', new Uint8Array(header.initiatorCookie), ckyR, from, false, { aggressive: header.exchangeType === ExchangeType.Aggressive })
      const r = this.runTask(now, e, e.mm, header, data, from)
      if (r !== 'ok') this.forget(e)
      return
    }
    if ((header.exchangeType === ExchangeType.IdentityProtection || header.exchangeType === ExchangeType.Aggressive) && header.messageId === 0) {
      if (header.exchangeType !== e.mm.exchangeType) { this.stats.inc('drop:exchange-type'); return }
      this.runTask(now, e, e.mm, header, data, from)
      return
    }
    if (header.exchangeType === ExchangeType.Informational) { this.informational(now, e, header, data); return }
    if (e.sa.state !== 'established') { this.stats.inc('drop:not-established'); return }
    if (header.exchangeType === ExchangeType.QuickMode) {
      let qm = e.qm.get(header.messageId)
      if (!qm) {
        if (e.doneMids.has(header.messageId) || header.messageId === 0) { this.stats.inc('drop:message-id'); return }
        qm = new QuickModeTask(e.sa, this.qmOptions(undefined, e), header.messageId)
        const r = this.runTask(now, e, qm, header, data, from)
        if (r === 'ok' && !e.doneMids.has(header.messageId)) e.qm.set(header.messageId, qm)
        return
      }
      this.runTask(now, e, qm, header, data, from)
      return
    }
    this.stats.inc('drop:exchange-type')
  }

  /** Decrypts (E flag) or decodes, checks the rules, runs the task; 'ok' when the task accepted the message. */
  private runTask(now: Millis, e: IkeV1Entry, task: V1Task, header: IsakmpHeader, data: Uint8Array, from: Endpoint): 'ok' | 'dropped' | 'failed' {
    const ruleName = task.expects()
    if (!ruleName) { this.stats.inc('drop:unexpected'); return 'dropped' }
    const mid = header.messageId
    let msg: InboundV1
    let nextIv: Uint8Array | undefined
    if (header.flags & HeaderFlag.Encryption) {
      const k = e.sa.keys
      if (!k || !e.sa.iv) { this.stats.inc('drop:encrypted-before-keys'); return 'dropped' }
      const iv = mid === 0 ? e.sa.iv : (e.sa.exchangeIvs.get(mid) ?? phase2Iv(k.hash, k.cipher, e.sa.iv, mid))
      let opened
      // A wrong key (pre-shared key mismatch) usually shows up here as a body that does not parse.
      try { opened = openMessage(data, k.cipher, k.encKey, iv) } catch (err) {
        if (!(err instanceof DecodeError)) throw err
        this.stats.inc('drop:decrypt')
        this.authFailed(e, mid, `${e.mm.initiatorAuthMessage} does not decrypt (wrong pre-shared key?)`)
        return 'dropped'
      }
      msg = { header, payloads: opened.payloads, spans: opened.spans, bytes: opened.plaintext, end: opened.end }
      nextIv = opened.nextIv
    } else {
      const d = decodeMessage(data)
      msg = { header, payloads: d.payloads, spans: d.spans, bytes: d.bytes, end: d.end }
    }
    const types = msg.spans.map((s) => s.payloadType)
    const v = checkMessage(EXCHANGE_RULES[ruleName], types, header.flags)
    if (v) { this.stats.inc(`drop:rule:${ruleName}:${v.reason}`); return 'dropped' }
    for (const p of msg.payloads) {
      const f = checkPayload(p)
      if (f) { this.stats.inc(`drop:payload:${f.field}`); return 'dropped' }
    }
    // Main mode 2 names CKY-R (RFC 2408 §3.1); kept only if the message is accepted.
    const learnCkyR = e.sa.role === 'initiator' && bytesEqual(e.sa.ckyR, ZERO8)
    if (learnCkyR) e.sa.ckyR = new Uint8Array(header.responderCookie)
    const step: TaskStep = task.process(msg)
    if (learnCkyR && step.kind === 'ignore') e.sa.ckyR = new Uint8Array(8)
    if (step.kind === 'ignore') { this.stats.inc(`drop:auth:${step.reason}`); this.authFailed(e, mid, e.mm.lastAuthFailure ?? step.reason); return 'dropped' }
    if (step.kind === 'failed') {
      this.stats.inc('negotiation-failed')
      if (task instanceof QuickModeTask && task.policyRefusal !== undefined) this.stats.inc('refused:child-policy')
      if (e.sa.state === 'established' && mid !== 0) {
        e.qm.delete(mid); e.doneMids.add(mid)
        // The quick mode authenticated, so the refusal goes back protected (RFC 2409 §5.7), naming the
        // initiator's SPI so it can tell which negotiation failed.
        if (step.notify !== undefined && task instanceof QuickModeTask && !task.initiator) {
          const infoMid = newMessageId(this.o.rng, (m) => e.qm.has(m) || e.doneMids.has(m))
          const n: IsakmpPayload = { payload: 'notify', doi: Doi.Ipsec, protocolId: ProtocolId.IpsecEsp, spi: task.peerSpi ?? new Uint8Array(0), notifyType: step.notify, data: new Uint8Array(0) }
          this.transmits.push({ to: from, data: sealInformational(e.sa, infoMid, [n]) })
        }
        this.events.push({ type: 'childSaFailed', sa: hex(e.sa.ckyI), reason: step.reason })
      }
      else {
        // Before keys exist an error travels in the clear (RFC 2408 §5: the notify tells the initiator why);
        // authentication failures never get here (they are 'ignore': no hint for a key prober).
        if (!e.sa.keys && step.notify !== undefined) this.transmits.push({ to: from, data: encodeMessage(this.header(e.sa, ExchangeType.Informational, 0), [plainNotify(step.notify)]) })
        else if (e.sa.keys && mid === 0 && nextIv && step.notify !== undefined) {
          // A certificate or signature refused in main mode 5/6: the message decrypted, so both ends now
          // hold its last block as the phase 1 IV; the refusal goes back HASH(1)-protected under a fresh
          // message ID (RFC 2409 §5.7), naming the ISAKMP SA by its cookies (RFC 2408 §3.14).
          e.sa.iv = nextIv
          const spi = new Uint8Array(16); spi.set(e.sa.ckyI); spi.set(e.sa.ckyR, 8)
          const n: IsakmpPayload = { payload: 'notify', doi: Doi.Ipsec, protocolId: ProtocolId.Isakmp, spi, notifyType: step.notify, data: new Uint8Array(0) }
          this.transmits.push({ to: from, data: sealInformational(e.sa, newMessageId(this.o.rng, () => false), [n]) })
        }
        this.close(e, step.reason)
      }
      return 'failed'
    }
    // Authenticated: commit the IV (App. B) and follow the peer to the address it really uses (RFC 3947 §4).
    if (nextIv) { if (mid === 0) e.sa.iv = nextIv; else e.sa.exchangeIvs.set(mid, nextIv) }
    if (e.sa.state === 'established' || step.kind === 'reply' || step.done || mid !== 0 || header.flags & HeaderFlag.Encryption) e.sa.peer = from
    e.outstanding = undefined
    this.life.seen(now, e, msg)
    const request = new Uint8Array(data.subarray(0, header.length))
    if (step.kind === 'reply') {
      const reply = this.encodeReply(e, header, step.payloads, step.encrypted)
      // Responders in phase 1 retransmit only when the peer repeats (no amplification towards a spoofed source).
      // Aggressive mode 2 is the exception: message 3 has no answer, so (as with quick mode 2) only the
      // responder can recover its loss; the half-open bounds limit what a spoofed AM1 can make us send.
      const wait = step.done ? undefined : e.sa.role === 'initiator' || mid !== 0 || ruleName === 'aggressive1' ? NEXT_MESSAGE[ruleName] : undefined
      this.afterPhase1Keys(e, now)
      this.send(now, e, reply, wait)
      remember(e, request, reply)
    } else remember(e, request, undefined)
    if (step.done) this.taskDone(now, e, task, mid)
    return 'ok'
  }

  private encodeReply(e: IkeV1Entry, header: IsakmpHeader, payloads: readonly IsakmpPayload[], encrypted: boolean): Uint8Array {
    const h = this.header(e.sa, header.exchangeType, header.messageId)
    if (!encrypted) return encodeMessage(h, payloads)
    // Main mode 5 is the initiator's: if NAT was found in main mode 4 it already goes to port 4500.
    const k = e.sa.keys!, mid = header.messageId
    const iv = mid === 0 ? e.sa.iv! : e.sa.exchangeIvs.get(mid)!
    const sealed = sealMessage(h, payloads, k.cipher, k.encKey, iv)
    if (mid === 0) e.sa.iv = sealed.nextIv; else e.sa.exchangeIvs.set(mid, sealed.nextIv)
    return sealed.bytes
  }

  /** RFC 3947 §4: once NAT-D showed a NAT, the initiator moves to port 4500 from main mode 5 on. */
  private afterPhase1Keys(e: IkeV1Entry, _now: Millis): void {
    const sa = e.sa
    if (sa.role === 'initiator' && sa.natDetected && sa.peer.port !== 4500 && sa.state === 'connecting') {
      sa.peer = { address: sa.peer.address, port: 4500 }
      sa.local = { address: sa.local.address, port: 4500 }
      this.events.push({ type: 'natFloat', sa: hex(sa.ckyI), peer: sa.peer })
    }
  }

  private taskDone(now: Millis, e: IkeV1Entry, task: V1Task, mid: number): void {
    const name = hex(e.sa.ckyI)
    if (task === e.mm) {
      e.sa.state = 'established'
      const k = e.sa.keys
      if (this.o.keyLog && k) this.o.keyLog({ ckyI: new Uint8Array(e.sa.ckyI), ckyR: new Uint8Array(e.sa.ckyR), cipher: k.cipher.name, encryptionKey: new Uint8Array(k.encKey) })
      this.events.push({ type: 'ikeUp', sa: name, peer: e.sa.peer, peerId: e.sa.peerId!, natT: e.sa.natT, ...(e.mm.peerCert ? { peerCertificate: e.mm.peerCert } : {}), ...(e.life.reauthOf ? { rekeyOf: e.life.reauthOf } : {}) })
      if (e.mm.initialContactReceived) this.initialContact(e)
      this.life.ikeUp(now, e)
      // A re-established ISAKMP SA adopts the old one's children instead of starting a quick mode.
      if (e.sa.role === 'initiator' && e.life.reauthOf === undefined) { const c = e.child; e.child = undefined; this.createChildSa(now, name, c ?? { mode: this.o.mode }) }
      return
    }
    const qm = task as QuickModeTask
    e.qm.delete(mid)
    e.doneMids.add(mid)
    e.sa.exchangeIvs.get(mid)?.fill(0)
    e.sa.exchangeIvs.delete(mid)
    const r = qm.result!
    e.children.set(r.inbound.spi, r.outbound.spi)
    this.events.push({ type: 'childSaUp', sa: name, peer: e.sa.peer, peerId: e.sa.peerId!, ...r, ...this.life.childUp(now, e, mid, r) })
  }

  /** RFC 2407 §4.6.3.3: the peer has no other SA with us; drop every older SA of the same identity. */
  private initialContact(e: IkeV1Entry): void {
    const id = e.sa.peerId!
    for (const x of [...this.entries.values()]) {
      if (x === e || !x.sa.peerId || x.sa.peerId.idType !== id.idType || !bytesEqual(x.sa.peerId.data, id.data)) continue
      this.close(x, 'replaced: the peer sent INITIAL-CONTACT')
    }
  }

  private informational(now: Millis, e: IkeV1Entry, header: IsakmpHeader, data: Uint8Array): void {
    const out = readInformational(e.sa, header, data)
    if ('drop' in out) { this.stats.inc(`drop:${out.drop}`); return }
    if ('plainError' in out) { this.close(e, `the peer refused: ${notifyName(out.plainError)}`); return }
    this.life.informational(now, e, out)
    for (const spi of out.deletedOutboundSpis) {
      for (const [inSpi, outSpi] of e.children) {
        if (outSpi !== spi) continue
        e.children.delete(inSpi)
        this.events.push({ type: 'childSaDown', sa: hex(e.sa.ckyI), inboundSpi: inSpi, outboundSpi: outSpi, reason: this.life.childDeleted(inSpi) ?? 'deleted by the peer' })
      }
    }
    // An authenticated error about the ISAKMP SA itself (a certificate refused in main mode 5/6) ends it.
    const fatal = out.errors.find((n) => n.protocolId === ProtocolId.Isakmp)
    if (fatal) { this.close(e, `the peer refused: ${notifyName(fatal.notifyType)}`); return }
    for (const n of out.errors) {
      // An error notify naming the SPI of a quick mode we started: that negotiation is over.
      for (const [mid, qm] of e.qm) {
        if (!bytesEqual(qm.spiIn, n.spi)) continue
        e.qm.delete(mid); e.doneMids.add(mid)
        e.outstanding = undefined
        this.events.push({ type: 'childSaFailed', sa: hex(e.sa.ckyI), reason: `the peer refused: ${notifyName(n.notifyType)}` })
      }
    }
    // Deleting the ISAKMP SA alone does not delete its children (each SA has its own DELETE, RFC 2408 §3.15): they are handed over.
    if (out.deleteIsakmp) { this.life.handOver(e); this.close(e, 'deleted by the peer') }
  }

  private authFailed(e: IkeV1Entry, mid: number, reason: string): void {
    if (mid !== 0 || e.sa.role !== 'responder' || e.sa.state !== 'connecting') return
    if (++e.authFailures >= this.o.maxAuthFailures) this.close(e, `authentication failed: ${reason}`)
  }

  /** Emits childSaDown for each child (none after life.handOver) and closed, zeroes the keys, forgets the SA. */
  close(e: IkeV1Entry, reason: string): void {
    const name = hex(e.sa.ckyI)
    for (const [inSpi, outSpi] of e.children) { this.life.children.delete(inSpi); this.events.push({ type: 'childSaDown', sa: name, inboundSpi: inSpi, outboundSpi: outSpi, reason }) }
    e.children.clear()
    this.events.push({ type: 'closed', sa: name, peer: e.sa.peer, reason, ...e.life.closed })
    this.forget(e)
  }
  private forget(e: IkeV1Entry): void {
    this.frags.forget(hex(e.sa.ckyI))
    e.mm.destroy()
    e.sa.destroy()
    this.entries.delete(hex(e.sa.ckyI))
  }

  handleTimeout(now: Millis): void {
    this.frags.expire(now)
    for (const e of [...this.entries.values()]) {
      if (e.sa.role === 'responder' && e.sa.state === 'connecting' && now - e.sa.createdAt >= this.o.halfOpenTimeoutMs) {
        this.close(e, e.mm.lastAuthFailure ? `authentication failed: ${e.mm.lastAuthFailure}` : `${e.mm.exchangeName} did not complete in time`)
        continue
      }
      const out = e.outstanding
      if (!out || now < out.at) continue
      if (out.tries >= this.o.retransmit.tries) {
        const hint = e.mm.lastAuthFailure ? ` (${e.mm.lastAuthFailure})` : out.what === e.mm.initiatorAuthMessage ? (e.mm.transform && e.mm.transform.authMethod !== OakleyAuth.PreSharedKey ? ' (our certificate refused by the peer?)' : ' (wrong pre-shared key at either end?)') : ''
        this.close(e, `timeout: no answer to ${out.what} after ${out.tries} retransmissions${hint}`)
        continue
      }
      out.tries++
      out.at = now + this.o.retransmit.firstMs * this.o.retransmit.factor ** out.tries
      this.stats.inc('tx:retransmit')
      this.emit(e, out.bytes)
    }
    this.life.timeout(now)
  }

  nextTimeout(): Millis | undefined {
    let t: Millis | undefined = this.life.deadline()
    const f = this.frags.nextTimeout()
    if (f !== undefined && (t === undefined || f < t)) t = f
    for (const e of this.entries.values()) {
      const c = [e.outstanding?.at, e.sa.role === 'responder' && e.sa.state === 'connecting' ? e.sa.createdAt + this.o.halfOpenTimeoutMs : undefined]
      for (const x of c) if (x !== undefined && (t === undefined || x < t)) t = x
    }
    return t
  }
}

// IKEv1 Aggressive Mode, both roles (RFC 2409 §5.4 with pre-shared keys; §5.1 signatures fall out of the
// shared main mode code): SA + KE + Ni + IDii (1), SA + KE + Nr + IDir + HASH_R + NAT-D (2), HASH_I + NAT-D
// (3, encrypted as Windows/strongSwan send it, plain accepted), NAT-D per RFC 3947 §3.2.
import { constantTimeEqual } from '../../../lib/bytes.js'
import { Doi, ExchangeType, NotifyType, ProtocolId, Situation } from '../constants.js'
import { IKE_HASHES } from '../crypto/algorithms.js'
import { DH_GROUPS } from '../crypto/dh.js'
import { hashI, hashR } from '../crypto/keys.js'
import type { MessageRuleName } from '../message/exchange-rules.js'
import type { IsakmpPayload } from '../message/payloads.js'
import type { SaBody } from '../message/sa.js'
import { detectNat, natDPayloads } from '../nat-t.js'
import { responderSa, selectPhase1 } from '../proposal/select.js'
import { buildPhase1Transform, parsePhase1Transform } from '../proposal/transforms.js'
import { natTDialect } from '../vendor-ids.js'
import { isSignatureMethod } from '../crypto/signature.js'
import type { IkeSaV1 } from '../ike-sa.js'
import { MainModeTask, idPayload } from './main-mode.js'
import type { MainModeOptions } from './main-mode.js'
import type { InboundV1, TaskStep } from './types.js'

/**
 * Shown wherever aggressive mode is switched on (config load, gateway start, the admin view).
 * The why of it: RFC 2409 §5.4 puts HASH_R in message 2, in clear, before the initiator has shown it
 * knows anything.
 */
export const AGGRESSIVE_MODE_WARNING =
  'Aggressive mode with a pre-shared key sends the responder\'s HASH_R in clear before the initiator is authenticated, ' +
  'so anyone who sends one packet can capture it and crack the pre-shared key offline (e.g. with ike-scan and psk-crack): use main mode or certificates.'

const fail = (reason: string, notify?: number): TaskStep => ({ kind: 'failed', reason, ...(notify !== undefined ? { notify } : {}) })

export class AggressiveModeTask extends MainModeTask {
  /** Responder: IDii_b as received in message 1 (HASH_I covers it, RFC 2409 §5). */
  private idiB: Uint8Array | undefined
  private peerIdPayload: { readonly idType: number; readonly data: Uint8Array } | undefined

  constructor(sa: IkeSaV1, o: MainModeOptions) { super(sa, o) }

  override get exchangeType(): number { return ExchangeType.Aggressive }
  override get exchangeName(): string { return 'aggressive mode' }
  override get initiatorAuthMessage(): string { return 'aggressive mode 3' }

  override expects(): MessageRuleName | undefined {
    const order: readonly (MessageRuleName | undefined)[] = this.sa.role === 'initiator' ? ['aggressive2', undefined] : ['aggressive1', 'aggressive3', undefined]
    return order[this.step]
  }

  /**
   * Initiator: message 1 (HDR, SA, KE, Ni, IDii, VIDs). The KE is drawn for the group of the first
   * proposal, so every proposal must use that group (the endpoint filters; RFC 2409 §5.4 leaves no room
   * to negotiate the group: the KE is already sent).
   */
  override start(): IsakmpPayload[] {
    const first = this.o.proposals[0]!
    this.chosen = first
    const sa: SaBody = {
      doi: Doi.Ipsec, situation: Situation.IdentityOnly,
      proposals: [{ number: 1, protocolId: ProtocolId.Isakmp, spi: new Uint8Array(0), transforms: this.o.proposals.map((t, i) => buildPhase1Transform(i + 1, t)) }],
    }
    const keNonce = this.keNonce(true) // no dialect yet: KE + Ni only (+ CR with a signature method)
    return [{ payload: 'sa', ...sa }, keNonce[0]!, keNonce[1]!, idPayload(this.ourId()), ...keNonce.slice(2), ...this.vendorIds()]
  }

  override process(msg: InboundV1): TaskStep {
    if (this.sa.role === 'initiator') return this.step === 0 ? this.message2(msg) : fail('aggressive mode: no message expected')
    if (this.step === 0) return this.message1(msg)
    if (this.step === 1) return this.message3(msg)
    return fail('aggressive mode: no message expected')
  }

  /** Responder: choose, derive every key at once, answer with HASH_R (or SIG_R). */
  private message1(msg: InboundV1): TaskStep {
    const { p: sa, body } = this.first(msg, 'sa')
    const ke = this.first(msg, 'ke').p.data
    // Only a transform whose group matches the KE already sent can be taken.
    const choice = selectPhase1(sa, (t) => DH_GROUPS[t.group]?.publicLength === ke.length && this.acceptsMethod(t.authMethod) && this.o.accept(t))
    if (!('parsed' in choice)) return fail(`aggressive mode 1: no proposal chosen (${choice.reasons.join('; ')})`, choice.notify)
    this.chosen = choice.parsed
    this.saiB = new Uint8Array(body)
    this.dialect = this.o.natT ? natTDialect(this.vids(msg)) : undefined
    const { p: id, body: idB } = this.first(msg, 'id')
    this.idiB = new Uint8Array(idB)
    this.peerIdPayload = { idType: id.idType, data: new Uint8Array(id.data) }
    // The ID came with the KE: the pre-shared key can be chosen by it (a group name, a user FQDN).
    this.pskId = this.peerIdPayload
    const ours = this.keNonce(false)
    const bad = this.takeKeNonce(msg, true)
    if (bad) return bad
    this.step = 1
    const ourId = this.ourId()
    const auth = this.authPayloads(hashR(this.authPrf(), this.keys().skeyid, this.hashInputs(), this.idB(ourId)))
    // RFC 2409 §5.4 order (SA, KE, Nr, IDir, HASH_R), then NAT-D (RFC 3947 §3.2), CR, VIDs.
    return { kind: 'reply', payloads: [{ payload: 'sa', ...responderSa(sa, choice) }, ours[0]!, ours[1]!, idPayload(ourId), ...auth, ...ours.slice(2), ...this.responderVids()], encrypted: false, done: false }
  }

  /** Initiator: the responder's choice, keys, HASH_R; answer HASH_I (+ NAT-D, INITIAL-CONTACT), encrypted. */
  private message2(msg: InboundV1): TaskStep {
    const { p: sa } = this.first(msg, 'sa')
    const prop = sa.proposals[0]
    if (sa.proposals.length !== 1 || !prop || prop.transforms.length !== 1 || prop.protocolId !== ProtocolId.Isakmp) return fail('aggressive mode 2: not one proposal with one transform', NotifyType.BadProposalSyntax)
    const parsed = parsePhase1Transform(prop.transforms[0]!)
    if (!parsed.ok) return fail(`aggressive mode 2: ${parsed.reason}`, parsed.notify)
    const t = parsed.value
    const offered = this.o.proposals.some((q) => q.encryption === t.encryption && q.keyLength === t.keyLength && q.hash === t.hash && q.authMethod === t.authMethod && q.group === t.group)
    if (!offered || t.group !== this.chosen!.group) return fail('aggressive mode 2: the responder chose a transform we did not offer', NotifyType.NoProposalChosen)
    if (isSignatureMethod(t.authMethod) && (this.o.signer?.method !== t.authMethod || !this.o.trust)) return fail(`aggressive mode 2: authentication method ${t.authMethod} needs credentials with a matching key and trust anchors`)
    this.chosen = t
    this.dialect = this.o.natT ? natTDialect(this.vids(msg)) : undefined
    const { p: id, body: idrB } = this.first(msg, 'id')
    this.pskId = { idType: id.idType, data: id.data }
    // The KE is checked against the group we drew for before any key is derived.
    const bad = this.takeKeNonce(msg, false)
    if (bad) return bad
    const want = hashR(this.authPrf(), this.keys().skeyid, this.hashInputs(), idrB)
    if (this.isSig()) {
      const refused = this.verifySig(msg, id, want, 'server', 'aggressive mode 2')
      if (refused) return refused
    } else {
      const hashP = msg.payloads.find((p) => p.payload === 'hash')
      if (!hashP || hashP.payload !== 'hash') return fail('aggressive mode 2: no HASH_R under a pre-shared key', NotifyType.AuthenticationFailed)
      // The DH value is spent and a repeat of message 2 would be the same bytes: end here. (A forger on
      // the path could so abort us, but such an attacker can drop our packets as well.)
      if (!constantTimeEqual(want, hashP.data)) {
        this.lastAuthFailure = 'HASH_R does not verify (wrong pre-shared key at either end?)'
        return fail(`aggressive mode 2: ${this.lastAuthFailure}`)
      }
    }
    this.sa.peerId = { idType: id.idType, data: new Uint8Array(id.data) }
    this.step = 1
    const ourId = this.ourId()
    const payloads: IsakmpPayload[] = [...this.authPayloads(hashI(this.authPrf(), this.keys().skeyid, this.hashInputs(), this.idB(ourId)))]
    if (this.dialect) {
      const draft = this.dialect !== 'rfc3947'
      for (const d of natDPayloads(IKE_HASHES[t.hash]!, this.sa.ckyI, this.sa.ckyR, this.sa.peer, [this.sa.local])) payloads.push({ payload: 'natD', draft, data: d })
    }
    if (this.o.initialContact) {
      const spi = new Uint8Array(16); spi.set(this.sa.ckyI); spi.set(this.sa.ckyR, 8)
      payloads.push({ payload: 'notify', doi: Doi.Ipsec, protocolId: ProtocolId.Isakmp, spi, notifyType: NotifyType.InitialContact, data: new Uint8Array(0) })
    }
    return { kind: 'reply', payloads, encrypted: true, done: true }
  }

  /** Responder: HASH_I (or CERT + SIG_I) over IDii_b from message 1; NAT-D from here (RFC 3947 §3.2). */
  private message3(msg: InboundV1): TaskStep {
    const id = this.peerIdPayload!
    const want = hashI(this.authPrf(), this.keys().skeyid, this.hashInputs(), this.idiB!)
    if (this.isSig()) {
      const refused = this.verifySig(msg, id, want, 'client', 'aggressive mode 3')
      if (refused) return refused
    } else {
      const hashP = msg.payloads.find((p) => p.payload === 'hash')
      if (!hashP || hashP.payload !== 'hash') return fail('aggressive mode 3: no HASH_I under a pre-shared key', NotifyType.AuthenticationFailed)
      if (!constantTimeEqual(want, hashP.data)) { this.lastAuthFailure = 'HASH_I does not verify (wrong pre-shared key?)'; return { kind: 'ignore', reason: 'hash_i' } }
    }
    const natDs = msg.payloads.flatMap((p) => (p.payload === 'natD' ? [p.data] : []))
    if (this.dialect && natDs.length > 0) {
      // sa.peer is still where message 1 came from: the initiator hashed the ports it used before floating.
      const n = detectNat(this.keys().hash, this.sa.ckyI, this.sa.ckyR, this.sa.local, this.sa.peer, natDs)
      if (n) this.sa.natT = { dialect: this.dialect, ...n }
    }
    this.sa.peerId = { idType: id.idType, data: id.data }
    this.initialContactReceived = msg.payloads.some((p) => p.payload === 'notify' && p.notifyType === NotifyType.InitialContact)
    this.step = 2
    return { kind: 'wait', done: true }
  }
}

/** The proposals an aggressive mode initiator may offer: those with the first one's DH group. */
export function aggressiveProposals<T extends { readonly group: number }>(proposals: readonly T[]): T[] {
  const g = proposals[0]?.group
  return proposals.filter((p) => p.group === g)
}

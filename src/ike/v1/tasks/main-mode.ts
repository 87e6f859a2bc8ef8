// IKEv1 Main Mode, both roles, with pre-shared keys (RFC 2409 §5.4) or signatures (§5.1): SA (1/2), KE +
// nonce + NAT-D (3/4, RFC 3947 §3.2) [+ CR], encrypted ID + HASH_I/HASH_R or CERT + SIG_I/SIG_R (5/6),
// with INITIAL-CONTACT (RFC 2407 §4.6.3.3).
import type { Endpoint } from '../../../lib/endpoint.js'
import { constantTimeEqual } from '../../../lib/bytes.js'
import type { Rng } from '../../../crypto/rng.js'
import { CertEncoding, Doi, ExchangeType, IdType, NotifyType, ProtocolId, Situation } from '../constants.js'
import { IKE_HASHES, ikeCipher } from '../crypto/algorithms.js'
import type { IkeHash } from '../crypto/algorithms.js'
import { phase1Iv } from '../crypto/cbc.js'
import { DhExchange } from '../crypto/dh.js'
import { deriveSkeyids, encryptionKey, hashI, hashR, skeyidPsk, skeyidSig } from '../crypto/keys.js'
import { isSignatureMethod, signAuthHash, verifyAuthHash } from '../crypto/signature.js'
import { certRequests, checkPeerCertificate } from './cert-auth.js'
import type { IkeTrust, Signer } from './cert-auth.js'
import type { Phase1HashInputs } from '../crypto/keys.js'
import { payloadBody } from '../message/message.js'
import type { IsakmpPayload } from '../message/payloads.js'
import type { SaBody } from '../message/sa.js'
import { detectNat, natDPayloads } from '../nat-t.js'
import { OakleyAuth, OakleyHash } from '../oakley.js'
import { buildPhase1Transform, parsePhase1Transform } from '../proposal/transforms.js'
import type { Phase1Transform } from '../proposal/transforms.js'
import { responderSa, selectPhase1 } from '../proposal/select.js'
import { VID_DPD, VID_FRAGMENTATION, VID_NAT_T_DRAFT_02, VID_NAT_T_DRAFT_02N, VID_NAT_T_DRAFT_03, VID_NAT_T_RFC3947, natTDialect, vendorIdHasPrefix } from '../vendor-ids.js'
import type { NatTDialect } from '../vendor-ids.js'
import type { MessageRuleName } from '../message/exchange-rules.js'
import type { IkeIdentity, IkeSaV1 } from '../ike-sa.js'
import type { InboundV1, TaskStep, V1Task } from './types.js'

export interface MainModeOptions {
  readonly rng: Rng
  /** Initiator: the transforms offered, best first. */
  readonly proposals: readonly Phase1Transform[]
  /** Responder: which parsed transform local policy takes. */
  readonly accept: (t: Phase1Transform) => boolean
  /**
   * RFC 2409 §5.4: in main mode the key must be known before ID arrives, so it is looked up by the
   * peer's address alone; aggressive mode also passes the peer's ID (it arrives with the KE).
   */
  readonly psk: (peer: Endpoint, id?: IkeIdentity) => Uint8Array | undefined
  /** Our IDii/IDir (RFC 2407 §4.6.2). */
  readonly localId: IkeIdentity
  /** Send INITIAL-CONTACT in main mode 5 (initiator, first SA towards this peer). */
  readonly initialContact: boolean
  /** Offer/accept NAT-T (RFC 3947). */
  readonly natT: boolean
  /** Responder: the authentication methods local policy takes (a signature method also needs signer + trust). */
  readonly authMethods: readonly number[]
  /** Our certificate and key, for signature methods (RFC 2409 §5.1). */
  readonly signer?: Signer
  /** The CAs, revocation and wall clock the peer's certificate is checked with. */
  readonly trust?: IkeTrust
  /** Our ID when authenticating with the certificate (default: its subject as ID_DER_ASN1_DN). */
  readonly certLocalId?: IkeIdentity
}

const ECDSA_AUTH_PRF: Readonly<Partial<Record<number, number>>> = {
  [OakleyAuth.EcdsaP256Sha256]: OakleyHash.Sha2_256, [OakleyAuth.EcdsaP384Sha384]: OakleyHash.Sha2_384, [OakleyAuth.EcdsaP521Sha512]: OakleyHash.Sha2_512,
}

/** Nonce length we send: RFC 2409 §5 allows 8..256 bytes; 32 matches strongSwan. */
const NONCE_LENGTH = 32
const NAT_T_VIDS: Readonly<Record<NatTDialect, Uint8Array>> = { 'rfc3947': VID_NAT_T_RFC3947, 'draft-03': VID_NAT_T_DRAFT_03, 'draft-02': VID_NAT_T_DRAFT_02, 'draft-02n': VID_NAT_T_DRAFT_02N }
const fail = (reason: string, notify?: number): TaskStep => ({ kind: 'failed', reason, ...(notify !== undefined ? { notify } : {}) })

/** The identity as an ID payload. RFC 2407 §4.6.2: in phase 1 protocol and port are zero or UDP/500; we send zero. */
export function idPayload(id: IkeIdentity): IsakmpPayload {
  return { payload: 'id', idType: id.idType, protocolId: 0, port: 0, data: id.data }
}

export class MainModeTask implements V1Task {
  protected readonly sa: IkeSaV1
  protected readonly o: MainModeOptions
  protected step = 0
  protected saiB: Uint8Array | undefined
  protected chosen: Phase1Transform | undefined
  protected dh: DhExchange | undefined
  protected gxi: Uint8Array | undefined
  protected gxr: Uint8Array | undefined
  protected ni: Uint8Array | undefined
  protected nr: Uint8Array | undefined
  protected dialect: NatTDialect | undefined
  /** Set when the peer's INITIAL-CONTACT arrived in an authenticated main mode 5. */
  initialContactReceived = false
  /** Why a main mode 5/6 was refused last (a wrong pre-shared key shows up here). */
  lastAuthFailure: string | undefined
  /** The peer's certificate once it verified (signature methods). */
  peerCert: { readonly serial: string; readonly subject: string } | undefined
  /** The peer announced IKE fragmentation (VID_FRAGMENTATION, prefix match): we may fragment towards it. */
  peerFragmentation = false
  /** The peer's ID when the PSK is looked up (aggressive mode: it came with the KE); main mode: none. */
  protected pskId: IkeIdentity | undefined

  constructor(sa: IkeSaV1, o: MainModeOptions) {
    this.sa = sa
    this.o = o
  }

  get transform(): Phase1Transform | undefined { return this.chosen }
  /** The ISAKMP exchange type this task runs (the manager drops phase 1 messages of another type). */
  get exchangeType(): number { return MAIN_MODE }
  /** For reasons and timeouts: the exchange, and its last message that authenticates the initiator. */
  get exchangeName(): string { return 'main mode' }
  get initiatorAuthMessage(): string { return 'main mode 5' }

  expects(): MessageRuleName | undefined {
    const i = this.sa.role === 'initiator'
    const order: readonly (MessageRuleName | undefined)[] = i ? ['mainMode2', 'mainMode4', 'mainMode6', undefined] : ['mainMode1', 'mainMode3', 'mainMode5', undefined]
    return order[this.step]
  }

  protected vendorIds(): IsakmpPayload[] {
    const v: IsakmpPayload[] = []
    if (this.o.natT) v.push({ payload: 'vendorId', data: VID_NAT_T_RFC3947 })
    v.push({ payload: 'vendorId', data: VID_DPD }, { payload: 'vendorId', data: VID_FRAGMENTATION })
    return v
  }

  /** Initiator: main mode 1 (HDR, SA, VIDs). The SA body is kept as sent (SAi_b). */
  start(): IsakmpPayload[] {
    const sa: SaBody = {
      doi: Doi.Ipsec, situation: Situation.IdentityOnly,
      proposals: [{ number: 1, protocolId: ProtocolId.Isakmp, spi: new Uint8Array(0), transforms: this.o.proposals.map((t, i) => buildPhase1Transform(i + 1, t)) }],
    }
    return [{ payload: 'sa', ...sa }, ...this.vendorIds()]
  }

  /** Records SAi_b exactly as it went out (the endpoint passes back the encoded message 1). */
  setSentSa(saiB: Uint8Array): void { this.saiB = new Uint8Array(saiB) }

  process(msg: InboundV1): TaskStep {
    return this.sa.role === 'initiator' ? this.processInitiator(msg) : this.processResponder(msg)
  }

  protected vids(msg: InboundV1): Uint8Array[] {
    const v = msg.payloads.flatMap((p) => (p.payload === 'vendorId' ? [p.data] : []))
    if (v.some((x) => vendorIdHasPrefix(x, VID_FRAGMENTATION))) this.peerFragmentation = true
    return v
  }
  protected first<N extends IsakmpPayload['payload']>(msg: InboundV1, name: N): { p: Extract<IsakmpPayload, { payload: N }>; body: Uint8Array } {
    const i = msg.payloads.findIndex((p) => p.payload === name)
    return { p: msg.payloads[i] as Extract<IsakmpPayload, { payload: N }>, body: payloadBody(msg.bytes, msg.spans[i]!) }
  }

  protected processInitiator(msg: InboundV1): TaskStep {
    switch (this.step) {
      case 0: { // main mode 2: exactly one proposal, one transform, one we offered (RFC 2408 §4.2)
        const { p: sa } = this.first(msg, 'sa')
        const prop = sa.proposals[0]
        if (sa.proposals.length !== 1 || !prop || prop.transforms.length !== 1 || prop.protocolId !== ProtocolId.Isakmp) return fail('main mode 2: not one proposal with one transform', NotifyType.BadProposalSyntax)
        const parsed = parsePhase1Transform(prop.transforms[0]!)
        if (!parsed.ok) return fail(`main mode 2: ${parsed.reason}`, parsed.notify)
        const t = parsed.value
        if (!this.o.proposals.some((q) => sameSuite(q, t))) return fail('main mode 2: the responder chose a transform we did not offer', NotifyType.NoProposalChosen)
        // A signature suite offered without our own key of that kind (or without CAs) is a configuration slip.
        if (isSignatureMethod(t.authMethod) && (this.o.signer?.method !== t.authMethod || !this.o.trust)) return fail(`main mode 2: authentication method ${t.authMethod} needs credentials with a matching key and trust anchors`)
        this.chosen = t
        this.dialect = this.o.natT ? natTDialect(this.vids(msg)) : undefined
        this.step = 1
        return { kind: 'reply', payloads: this.keNonce(true), encrypted: false, done: false }
      }
      case 1: { // main mode 4
        const r = this.takeKeNonce(msg, false)
        if (r) return r
        this.step = 2
        const id = this.ourId()
        const payloads: IsakmpPayload[] = [idPayload(id), ...this.authPayloads(hashI(this.authPrf(), this.keys().skeyid, this.hashInputs(), this.idB(id)))]
        if (this.o.initialContact) {
          // RFC 2407 §4.6.3.3: the SPI of INITIAL-CONTACT is the ISAKMP cookie pair.
          const spi = new Uint8Array(16); spi.set(this.sa.ckyI); spi.set(this.sa.ckyR, 8)
          payloads.push({ payload: 'notify', doi: Doi.Ipsec, protocolId: ProtocolId.Isakmp, spi, notifyType: NotifyType.InitialContact, data: new Uint8Array(0) })
        }
        return { kind: 'reply', payloads, encrypted: true, done: false }
      }
      case 2: { // main mode 6
        const { p: id, body: idB } = this.first(msg, 'id')
        const want = hashR(this.authPrf(), this.keys().skeyid, this.hashInputs(), idB)
        if (this.isSig()) {
          // RFC 2409 §5.1: the responder is a server to us ('server' EKU: a client certificate cannot pose as the gateway).
          const bad = this.verifySig(msg, id, want, 'server', 'main mode 6')
          if (bad) return bad
        } else {
          const hashP = msg.payloads.find((p) => p.payload === 'hash')
          if (!hashP || hashP.payload !== 'hash') return fail('main mode 6: no HASH_R under a pre-shared key', NotifyType.AuthenticationFailed)
          if (!constantTimeEqual(want, hashP.data)) { this.lastAuthFailure = 'HASH_R does not verify (wrong pre-shared key?)'; return { kind: 'ignore', reason: 'hash_r' } }
        }
        this.sa.peerId = { idType: id.idType, data: id.data }
        this.step = 3
        return { kind: 'wait', done: true }
      }
      default: return fail('main mode: no message expected')
    }
  }

  protected processResponder(msg: InboundV1): TaskStep {
    switch (this.step) {
      case 0: { // main mode 1
        const { p: sa, body } = this.first(msg, 'sa')
        const choice = selectPhase1(sa, (t) => this.acceptsMethod(t.authMethod) && this.o.accept(t))
        if (!('parsed' in choice)) return fail(`main mode 1: no proposal chosen (${choice.reasons.join('; ')})`, choice.notify)
        this.chosen = choice.parsed
        this.saiB = new Uint8Array(body)
        this.dialect = this.o.natT ? natTDialect(this.vids(msg)) : undefined
        this.step = 1
        // Answer in the NAT-T dialect the initiator announced (RFC 3947 §3.1; drafts for older clients).
        const vids = this.responderVids()
        return { kind: 'reply', payloads: [{ payload: 'sa', ...responderSa(sa, choice) }, ...vids], encrypted: false, done: false }
      }
      case 1: { // main mode 3
        const reply = this.keNonce(false)
        const r = this.takeKeNonce(msg, true)
        if (r) return r
        this.step = 2
        return { kind: 'reply', payloads: reply, encrypted: false, done: false }
      }
      case 2: { // main mode 5
        const { p: id, body: idB } = this.first(msg, 'id')
        const want = hashI(this.authPrf(), this.keys().skeyid, this.hashInputs(), idB)
        if (this.isSig()) {
          const bad = this.verifySig(msg, id, want, 'client', 'main mode 5')
          if (bad) return bad
        } else {
          const hashP = msg.payloads.find((p) => p.payload === 'hash')
          if (!hashP || hashP.payload !== 'hash') return fail('main mode 5: no HASH_I under a pre-shared key', NotifyType.AuthenticationFailed)
          // A wrong pre-shared key lands here (or fails to decrypt): no answer gives the prober a hint.
          if (!constantTimeEqual(want, hashP.data)) { this.lastAuthFailure = 'HASH_I does not verify (wrong pre-shared key?)'; return { kind: 'ignore', reason: 'hash_i' } }
        }
        this.sa.peerId = { idType: id.idType, data: id.data }
        this.initialContactReceived = msg.payloads.some((p) => p.payload === 'notify' && p.notifyType === NotifyType.InitialContact)
        this.step = 3
        const ourId = this.ourId()
        const payloads: IsakmpPayload[] = [idPayload(ourId), ...this.authPayloads(hashR(this.authPrf(), this.keys().skeyid, this.hashInputs(), this.idB(ourId)))]
        return { kind: 'reply', payloads, encrypted: true, done: true }
      }
      default: return fail('main mode: no message expected')
    }
  }

  /** A responder's VIDs: NAT-T in the dialect the initiator announced, DPD, fragmentation. */
  protected responderVids(): IsakmpPayload[] {
    const vids: IsakmpPayload[] = [{ payload: 'vendorId', data: VID_DPD }, { payload: 'vendorId', data: VID_FRAGMENTATION }]
    if (this.dialect) vids.unshift({ payload: 'vendorId', data: NAT_T_VIDS[this.dialect] })
    return vids
  }

  /** Our KE, nonce and NAT-D (main mode 3 or 4). The DH private value is drawn here. */
  protected keNonce(initiator: boolean): IsakmpPayload[] {
    this.dh = new DhExchange(this.chosen!.group, this.o.rng)
    const nonce = this.o.rng.bytes(NONCE_LENGTH)
    if (initiator) { this.gxi = this.dh.publicValue; this.ni = nonce } else { this.gxr = this.dh.publicValue; this.nr = nonce }
    const out: IsakmpPayload[] = [{ payload: 'ke', data: this.dh.publicValue }, { payload: 'nonce', data: nonce }]
    if (this.dialect) {
      const draft = this.dialect !== 'rfc3947'
      for (const d of natDPayloads(IKE_HASHES[this.chosen!.hash]!, this.sa.ckyI, this.sa.ckyR, this.sa.peer, [this.sa.local])) out.push({ payload: 'natD', draft, data: d })
    }
    // RFC 2409 §5.1 / RFC 4945 §3.2.4: ask for a certificate from the CAs we trust (CR in 3/4).
    if (this.isSig() && this.o.trust) out.push(...certRequests(this.o.trust))
    return out
  }

  /** Reads the peer's KE/nonce/NAT-D, computes g^xy and every phase 1 key. Undefined on success. */
  protected takeKeNonce(msg: InboundV1, responder: boolean): TaskStep | undefined {
    const ke = this.first(msg, 'ke').p.data, nonce = this.first(msg, 'nonce').p.data
    const gxy = this.dh!.computeShared(ke)
    this.dh!.destroy()
    if (!gxy) return fail('KE: the peer\'s Diffie-Hellman value is unacceptable', NotifyType.InvalidKeyInformation)
    if (responder) { this.gxi = new Uint8Array(ke); this.ni = new Uint8Array(nonce) } else { this.gxr = new Uint8Array(ke); this.nr = new Uint8Array(nonce) }
    const t = this.chosen!
    const h = IKE_HASHES[t.hash]!, c = ikeCipher(t.encryption, t.keyLength)!
    let skeyid: Uint8Array
    // RFC 2409 §5: for signatures SKEYID = prf(Ni_b | Nr_b, g^xy); for pre-shared keys prf(key, Ni_b | Nr_b).
    if (this.isSig()) skeyid = skeyidSig(h, this.ni!, this.nr!, gxy)
    else {
      const psk = this.pskId ? this.o.psk(this.sa.peer, this.pskId) : this.o.psk(this.sa.peer)
      // No notify: telling a stranger whether a key exists for its address is a hint we do not give.
      if (!psk) { gxy.fill(0); return fail(`no pre-shared key for ${this.sa.peer.address}`) }
      skeyid = skeyidPsk(h, psk, this.ni!, this.nr!)
    }
    const ids = deriveSkeyids(h, skeyid, gxy, this.sa.ckyI, this.sa.ckyR)
    gxy.fill(0)
    this.sa.keys = { hash: h, cipher: c, skeyid, d: ids.d, a: ids.a, e: ids.e, encKey: encryptionKey(h, ids.e, c.keyLength) }
    this.sa.iv = phase1Iv(h, c, this.gxi!, this.gxr!)
    const natDs = msg.payloads.flatMap((p) => (p.payload === 'natD' ? [p.data] : []))
    if (this.dialect && natDs.length > 0) {
      const n = detectNat(h, this.sa.ckyI, this.sa.ckyR, this.sa.local, this.sa.peer, natDs)
      if (n) this.sa.natT = { dialect: this.dialect, ...n }
    }
    return undefined
  }

  protected keys() { return this.sa.keys! }
  /**
   * The prf of HASH_I/HASH_R. For ECDSA strongSwan uses HMAC with the method's own SHA-2 (9: SHA-256,
   * 10: SHA-384, 11: SHA-512; keymat_v1.c `prf_auth`) whatever hash the suite negotiated, so the SIG
   * input has the curve's size; seen in the lab: P-384 with a SHA-256 suite fails both ways otherwise.
   * Every other method: the negotiated hash (RFC 2409 §5).
   */
  protected authPrf(): IkeHash {
    const h = ECDSA_AUTH_PRF[this.chosen?.authMethod ?? 0]
    return h !== undefined ? IKE_HASHES[h]! : this.keys().hash
  }
  protected isSig(): boolean { return this.chosen !== undefined && isSignatureMethod(this.chosen.authMethod) }
  /** A signature method only with our own key of that kind and someone to trust; PSK when listed. */
  protected acceptsMethod(m: number): boolean {
    if (!this.o.authMethods.includes(m)) return false
    if (m === OakleyAuth.PreSharedKey) return true
    return isSignatureMethod(m) && this.o.signer?.method === m && this.o.trust !== undefined
  }
  protected ourId(): IkeIdentity { return this.isSig() ? (this.o.certLocalId ?? this.o.signer!.id) : this.o.localId }
  /** HASH_x, or CERT + SIG_x for signature methods (RFC 2409 §5.1: "HDR*, IDii, [ CERT, ] SIG_I"). */
  protected authPayloads(authHash: Uint8Array): IsakmpPayload[] {
    if (!this.isSig()) return [{ payload: 'hash', data: authHash }]
    const s = this.o.signer!
    return [{ payload: 'cert', encoding: CertEncoding.X509Signature, data: s.certDer }, { payload: 'sig', data: signAuthHash(this.chosen!.authMethod, s.key, authHash) }]
  }
  /**
   * The peer's CERT verified for `role`, its ID bound to it, then SIG over the HASH we computed. Any
   * failure ends the negotiation with a notify (the manager sends it encrypted and closes).
   */
  protected verifySig(msg: InboundV1, id: { idType: number; data: Uint8Array }, want: Uint8Array, role: 'client' | 'server', what: string): TaskStep | undefined {
    const sigP = msg.payloads.find((p) => p.payload === 'sig')
    if (!sigP || sigP.payload !== 'sig') return fail(`${what}: no SIG payload`, NotifyType.AuthenticationFailed)
    const c = checkPeerCertificate(msg.payloads.filter((p) => p.payload === 'cert'), id, this.o.trust!, role)
    if (!c.ok) { this.lastAuthFailure = c.reason; return fail(`${what}: ${c.reason}`, c.notify) }
    if (!verifyAuthHash(this.chosen!.authMethod, c.key, want, sigP.data)) {
      this.lastAuthFailure = `the signature of ${c.subject} does not verify`
      return fail(`${what}: ${this.lastAuthFailure}`, NotifyType.AuthenticationFailed)
    }
    this.peerCert = { serial: c.serial, subject: c.subject }
    return undefined
  }
  protected hashInputs(): Phase1HashInputs { return { gxi: this.gxi!, gxr: this.gxr!, ckyI: this.sa.ckyI, ckyR: this.sa.ckyR, saiB: this.saiB! } }
  /** IDii_b / IDir_b: the ID body (type, protocol, port, data) as we send it. */
  protected idB(id: IkeIdentity): Uint8Array {
    const b = new Uint8Array(4 + id.data.length)
    b[0] = id.idType
    b.set(id.data, 4)
    return b
  }

  /** Zeroes what the task still holds (nonces are public; the DH private value is not). */
  destroy(): void { this.dh?.destroy() }
}

function sameSuite(a: Phase1Transform, b: Phase1Transform): boolean {
  return a.encryption === b.encryption && a.keyLength === b.keyLength && a.hash === b.hash && a.authMethod === b.authMethod && a.group === b.group
}

/** ID_IPV4_ADDR / ID_FQDN identities (RFC 2407 §4.6.2.2, §4.6.2.3). */
export function ipv4Identity(bytes: Uint8Array): IkeIdentity { return { idType: IdType.Ipv4Addr, data: bytes } }
export function fqdnIdentity(name: string): IkeIdentity { return { idType: IdType.Fqdn, data: new TextEncoder().encode(name) } }
export const MAIN_MODE = ExchangeType.IdentityProtection

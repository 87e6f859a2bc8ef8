// Typed views of IKEv1 transforms: phase 1 KEY_IKE transforms (RFC 2409 §5 required attributes,
// Appendix A classes) and phase 2 ESP transforms (RFC 2407 §4.4.4, §4.5). Parsing judges syntax only;
// whether Gatehouse supports the algorithms is the proposal selector's question.
import { NotifyType } from '../constants.js'
import { ByteReader } from '../../../lib/bytes.js'
import { attributeNumber, decodeAttributes, numericAttribute } from '../message/attributes.js'
import type { IsakmpAttribute } from '../message/attributes.js'
import type { IsakmpTransform } from '../message/sa.js'
import { IpsecAttr, IsakmpTransformId, LifeType, OakleyAttr } from '../oakley.js'

export interface Lifetimes {
  readonly seconds?: number
  readonly kilobytes?: number
}
export interface Phase1Transform extends Lifetimes {
  readonly encryption: number
  /** Key Length attribute in bits (RFC 2409 App. A class 14); required for AES by RFC 3602 §5. */
  readonly keyLength?: number
  readonly hash: number
  readonly authMethod: number
  readonly group: number
}
export interface EspTransform extends Lifetimes {
  /** RFC 2407 §4.4.4 ESP transform ID (12 AES-CBC, 3 3DES, 18–20 AES-GCM). */
  readonly transformId: number
  readonly keyLength?: number
  /** RFC 2407 §4.5 Authentication Algorithm; absent for combined-mode ciphers (AES-GCM, RFC 4106 §8.1). */
  readonly authAlgorithm?: number
  readonly encapsulation?: number
  /** Group Description: present when the initiator asks for PFS (RFC 2409 §5.5). */
  readonly group?: number
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly notify: number; readonly reason: string }
const fail = <T>(notify: number, reason: string): Parsed<T> => ({ ok: false, notify, reason })

/**
 * Collects single-valued attributes and Life Type/Life Duration pairs (RFC 2409 App. A, RFC 2407 §4.5:
 * a Life Duration applies to the Life Type before it; the pair may repeat for seconds and kilobytes).
 */
function collect(attrs: readonly IsakmpAttribute[], lifeTypeClass: number, lifeDurationClass: number, known: ReadonlySet<number>): Parsed<{ values: Map<number, number>; life: Lifetimes }> {
  const values = new Map<number, number>()
  let pendingType: number | undefined
  let seconds: number | undefined, kilobytes: number | undefined
  for (const a of attrs) {
    const v = attributeNumber(a)
    if (v === undefined) return fail(NotifyType.BadProposalSyntax, `attribute ${a.type} value is not a number`)
    if (a.type === lifeTypeClass) {
      if (v !== LifeType.Seconds && v !== LifeType.Kilobytes) return fail(NotifyType.AttributesNotSupported, `life type ${v}`)
      pendingType = v
      continue
    }
    if (a.type === lifeDurationClass) {
      if (pendingType === undefined) return fail(NotifyType.BadProposalSyntax, 'life duration without a life type')
      if (pendingType === LifeType.Seconds) seconds = v
      else kilobytes = v
      pendingType = undefined
      continue
    }
    if (!known.has(a.type)) return fail(NotifyType.AttributesNotSupported, `attribute class ${a.type}`)
    if (values.has(a.type)) return fail(NotifyType.BadProposalSyntax, `attribute class ${a.type} repeated`)
    values.set(a.type, v)
  }
  if (pendingType !== undefined) return fail(NotifyType.BadProposalSyntax, 'life type without a duration')
  return { ok: true, value: { values, life: { ...(seconds !== undefined ? { seconds } : {}), ...(kilobytes !== undefined ? { kilobytes } : {}) } } }
}

const PHASE1_KNOWN = new Set<number>([OakleyAttr.EncryptionAlgorithm, OakleyAttr.HashAlgorithm, OakleyAttr.AuthenticationMethod, OakleyAttr.GroupDescription, OakleyAttr.KeyLength])

/**
 * Reads a phase 1 transform. RFC 2409 §5: "The following attributes are required by IKE and MUST be
 * negotiated as part of the ISAKMP Security Association: encryption algorithm, hash algorithm,
 * authentication method, information about a group over which to do Diffie-Hellman." Custom groups
 * (Group Type/Prime/Generator/Curve) and PRF are refused as ATTRIBUTES-NOT-SUPPORTED.
 */
export function parsePhase1Transform(t: IsakmpTransform): Parsed<Phase1Transform> {
  if (t.transformId !== IsakmpTransformId.KeyIke) return fail(NotifyType.InvalidTransformId, `transform ID ${t.transformId}`)
  const c = collect(t.attributes, OakleyAttr.LifeType, OakleyAttr.LifeDuration, PHASE1_KNOWN)
  if (!c.ok) return c
  const v = c.value.values
  const encryption = v.get(OakleyAttr.EncryptionAlgorithm), hash = v.get(OakleyAttr.HashAlgorithm)
  const authMethod = v.get(OakleyAttr.AuthenticationMethod), group = v.get(OakleyAttr.GroupDescription)
  if (encryption === undefined || hash === undefined || authMethod === undefined || group === undefined) {
    return fail(NotifyType.BadProposalSyntax, 'encryption, hash, authentication method and group are required (RFC 2409 §5)')
  }
  const keyLength = v.get(OakleyAttr.KeyLength)
  return { ok: true, value: { encryption, hash, authMethod, group, ...(keyLength !== undefined ? { keyLength } : {}), ...c.value.life } }
}

function lifeAttributes(life: Lifetimes, typeClass: number, durationClass: number): IsakmpAttribute[] {
  const out: IsakmpAttribute[] = []
  if (life.seconds !== undefined) out.push({ type: typeClass, value: LifeType.Seconds }, numericAttribute(durationClass, life.seconds))
  if (life.kilobytes !== undefined) out.push({ type: typeClass, value: LifeType.Kilobytes }, numericAttribute(durationClass, life.kilobytes))
  return out
}

/** Builds a KEY_IKE transform in the attribute order strongSwan and Windows use (encryption first). */
export function buildPhase1Transform(number: number, p: Phase1Transform): IsakmpTransform {
  const attributes: IsakmpAttribute[] = [{ type: OakleyAttr.EncryptionAlgorithm, value: p.encryption }]
  if (p.keyLength !== undefined) attributes.push({ type: OakleyAttr.KeyLength, value: p.keyLength })
  attributes.push({ type: OakleyAttr.HashAlgorithm, value: p.hash }, { type: OakleyAttr.AuthenticationMethod, value: p.authMethod }, { type: OakleyAttr.GroupDescription, value: p.group })
  attributes.push(...lifeAttributes(p, OakleyAttr.LifeType, OakleyAttr.LifeDuration))
  return { number, transformId: IsakmpTransformId.KeyIke, attributes }
}

const ESP_KNOWN = new Set<number>([IpsecAttr.GroupDescription, IpsecAttr.EncapsulationMode, IpsecAttr.AuthenticationAlgorithm, IpsecAttr.KeyLength])

/** Reads a phase 2 ESP transform (RFC 2407 §4.5). Key Rounds and compression attributes are refused. */
export function parseEspTransform(t: IsakmpTransform): Parsed<EspTransform> {
  const c = collect(t.attributes, IpsecAttr.SaLifeType, IpsecAttr.SaLifeDuration, ESP_KNOWN)
  if (!c.ok) return c
  const v = c.value.values
  const opt = (k: string, cls: number) => (v.has(cls) ? { [k]: v.get(cls)! } : {})
  return {
    ok: true,
    value: {
      transformId: t.transformId,
      ...opt('keyLength', IpsecAttr.KeyLength), ...opt('authAlgorithm', IpsecAttr.AuthenticationAlgorithm),
      ...opt('encapsulation', IpsecAttr.EncapsulationMode), ...opt('group', IpsecAttr.GroupDescription),
      ...c.value.life,
    } as EspTransform,
  }
}

/** Builds an ESP transform: life pairs first, then group, encapsulation, auth, key length. */
export function buildEspTransform(number: number, p: EspTransform): IsakmpTransform {
  const attributes: IsakmpAttribute[] = lifeAttributes(p, IpsecAttr.SaLifeType, IpsecAttr.SaLifeDuration)
  if (p.group !== undefined) attributes.push({ type: IpsecAttr.GroupDescription, value: p.group })
  if (p.encapsulation !== undefined) attributes.push({ type: IpsecAttr.EncapsulationMode, value: p.encapsulation })
  if (p.authAlgorithm !== undefined) attributes.push({ type: IpsecAttr.AuthenticationAlgorithm, value: p.authAlgorithm })
  if (p.keyLength !== undefined) attributes.push({ type: IpsecAttr.KeyLength, value: p.keyLength })
  return { number, transformId: p.transformId, attributes }
}

/**
 * RFC 2407 §4.6.3.1 RESPONDER-LIFETIME: the notification data is a list of SA Life Type / SA Life
 * Duration attributes (the responder's lifetime, to be adopted by the initiator). Other attributes
 * in it are refused. Throws DecodeError for attribute framing that runs past the data.
 */
export function parseResponderLifetime(data: Uint8Array): Parsed<Lifetimes> {
  const attrs = decodeAttributes(new ByteReader(data), 'responderLifetime.attribute')
  const c = collect(attrs, IpsecAttr.SaLifeType, IpsecAttr.SaLifeDuration, new Set())
  return c.ok ? { ok: true, value: c.value.life } : c
}

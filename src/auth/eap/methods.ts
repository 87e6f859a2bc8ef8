// The EAP methods Gatehouse implements, by name and Type (RFC 3748 §5.4; draft-kamath-pppext-eap-mschapv2-02),
// with factories that carriers (PPP, later IKEv2 and RADIUS) use to start a method run.
import type { Rng } from '../../crypto/rng.js'
import type { EapMethodName } from '../../ppp/auth/types.js'
import { EapType } from './codec.js'
import { EapMd5Peer, EapMd5Server } from './md5.js'
import type { EapPeerMethod, EapServerMethod } from './method.js'
import { EapMsChapV2Peer, EapMsChapV2Server } from './mschapv2.js'

export const EAP_METHOD_TYPES: Readonly<Record<EapMethodName, number>> = {
  'eap-md5': EapType.MD5_CHALLENGE,
  'eap-mschapv2': EapType.MSCHAPV2,
}

/** The method name for an EAP Type we implement, else undefined. */
export function eapMethodForType(type: number): EapMethodName | undefined {
  for (const [name, t] of Object.entries(EAP_METHOD_TYPES)) if (t === type) return name as EapMethodName
  return undefined
}

/** A fresh authenticator-side run of `name` for the peer that claimed `identity`. */
export function createEapServerMethod(name: EapMethodName, opts: { readonly rng: Rng; readonly serverName: string; readonly identity: string }): EapServerMethod {
  return name === 'eap-md5' ? new EapMd5Server(opts) : new EapMsChapV2Server(opts)
}

/** A fresh peer-side run of `name`. */
export function createEapPeerMethod(name: EapMethodName, opts: { readonly rng: Rng; readonly user: string; readonly password: string }): EapPeerMethod {
  return name === 'eap-md5' ? new EapMd5Peer(opts) : new EapMsChapV2Peer(opts)
}

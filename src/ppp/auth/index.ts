// Factories for the PPP authentication-phase cores (RFC 1661 §3.5): PAP (RFC 1334), CHAP-MD5
// (RFC 1994), MS-CHAPv2 (RFC 2759) and EAP (RFC 3748), one core per role and direction.
import { VpnError } from '../../lib/errors.js'
import { PapAuthenticator, PapPeer } from './pap.js'
import type { AuthenticatorOptions, AuthPeerOptions, PppAuthCore, PppAuthMethod } from './types.js'

export { encodeAuthOption, decodeAuthOption, AuthProtocol, ChapAlgorithm } from './option.js'
export type { PppAuthCore, PppAuthMethod, AuthenticatorOptions, AuthPeerOptions, AuthSideEvent, EapMethodName } from './types.js'

/** The authenticator (server) role for `method`. Throws VpnError for a method not built yet. */
export function createAuthenticator(method: PppAuthMethod, opts: AuthenticatorOptions): PppAuthCore {
  if (method === 'pap') return new PapAuthenticator(opts)
  throw new VpnError('ERR_NOT_IMPLEMENTED', `PPP authenticator for ${method} is not implemented yet`)
}

/** The peer (client) role for `method`. Throws VpnError for a method not built yet. */
export function createAuthPeer(method: PppAuthMethod, opts: AuthPeerOptions): PppAuthCore {
  if (method === 'pap') return new PapPeer(opts)
  throw new VpnError('ERR_NOT_IMPLEMENTED', `PPP auth peer for ${method} is not implemented yet`)
}

// Factories for the PPP authentication-phase cores (RFC 1661 §3.5): PAP (RFC 1334), CHAP-MD5
// (RFC 1994), MS-CHAPv2 (RFC 2759) and EAP (RFC 3748), one core per role and direction.
import { VpnError } from '../../lib/errors.js'
import { ChapAuthenticator, ChapPeer } from './chap.js'
import { chapMd5AuthenticatorVariant, chapMd5PeerVariant } from './chap-md5.js'
import { msChapV2AuthenticatorVariant, msChapV2PeerVariant } from './mschapv2.js'
import { PapAuthenticator, PapPeer } from './pap.js'
import type { AuthenticatorOptions, AuthPeerOptions, PppAuthCore, PppAuthMethod } from './types.js'

export { encodeAuthOption, decodeAuthOption, AuthProtocol, ChapAlgorithm } from './option.js'
export type { PppAuthCore, PppAuthMethod, AuthenticatorOptions, AuthPeerOptions, AuthSideEvent, EapMethodName } from './types.js'

/** The authenticator (server) role for `method`. Throws VpnError for a method not built yet. */
export function createAuthenticator(method: PppAuthMethod, opts: AuthenticatorOptions): PppAuthCore {
  if (method === 'pap') return new PapAuthenticator(opts)
  if (method === 'chap-md5') return new ChapAuthenticator(chapMd5AuthenticatorVariant, opts)
  if (method === 'mschapv2') return new ChapAuthenticator(msChapV2AuthenticatorVariant, opts)
  throw new VpnError('ERR_NOT_IMPLEMENTED', `PPP authenticator for ${method} is not implemented yet`)
}

/** The peer (client) role for `method`. Throws VpnError for a method not built yet. */
export function createAuthPeer(method: PppAuthMethod, opts: AuthPeerOptions): PppAuthCore {
  if (method === 'pap') return new PapPeer(opts)
  if (method === 'chap-md5') return new ChapPeer(chapMd5PeerVariant(opts.password), opts)
  if (method === 'mschapv2') return new ChapPeer(msChapV2PeerVariant(opts), opts)
  throw new VpnError('ERR_NOT_IMPLEMENTED', `PPP auth peer for ${method} is not implemented yet`)
}

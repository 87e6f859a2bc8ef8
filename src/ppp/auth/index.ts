// Factories for the PPP authentication-phase cores (RFC 1661 §3.5): PAP (RFC 1334), CHAP-MD5
// (RFC 1994), MS-CHAPv2 (RFC 2759) and EAP (RFC 3748), one core per role and direction.
import { VpnError } from '../../lib/errors.js'
import { ChapAuthenticator, ChapPeer } from './chap.js'
import { chapMd5AuthenticatorVariant, chapMd5PeerVariant } from './chap-md5.js'
import { EapAuthenticatorCore, EapPeerCore } from './eap.js'
import { msChapV2AuthenticatorVariant, msChapV2PeerVariant } from './mschapv2.js'
import { PapAuthenticator, PapPeer } from './pap.js'
import type { AuthenticatorOptions, AuthPeerOptions, PppAuthCore, PppAuthMethod } from './types.js'

export { PapAuthenticator, PapPeer } from './pap.js'
export { ChapAuthenticator, ChapPeer } from './chap.js'
export { EapAuthenticatorCore, EapPeerCore } from './eap.js'
export { encodeAuthOption, decodeAuthOption, AuthProtocol, ChapAlgorithm } from './option.js'
export type { PppAuthCore, PppAuthMethod, AuthenticatorOptions, AuthPeerOptions, AuthSideEvent, EapMethodName } from './types.js'

/** The authenticator (server) role for `method`. All four methods are implemented; throws VpnError('ERR_CONFIG_AUTH_METHOD') for any other value. */
export function createAuthenticator(method: PppAuthMethod, opts: AuthenticatorOptions): PppAuthCore {
  if (method === 'pap') return new PapAuthenticator(opts)
  if (method === 'chap-md5') return new ChapAuthenticator(chapMd5AuthenticatorVariant, opts)
  if (method === 'mschapv2') return new ChapAuthenticator(msChapV2AuthenticatorVariant, opts)
  if (method === 'eap') return new EapAuthenticatorCore(opts)
  throw new VpnError('ERR_CONFIG_AUTH_METHOD', `unknown PPP authentication method ${String(method)}`)
}

/** The peer (client) role for `method`. All four methods are implemented; throws VpnError('ERR_CONFIG_AUTH_METHOD') for any other value. */
export function createAuthPeer(method: PppAuthMethod, opts: AuthPeerOptions): PppAuthCore {
  if (method === 'pap') return new PapPeer(opts)
  if (method === 'chap-md5') return new ChapPeer(chapMd5PeerVariant(opts.password), opts)
  if (method === 'mschapv2') return new ChapPeer(msChapV2PeerVariant(opts), opts)
  if (method === 'eap') return new EapPeerCore(opts)
  throw new VpnError('ERR_CONFIG_AUTH_METHOD', `unknown PPP authentication method ${String(method)}`)
}

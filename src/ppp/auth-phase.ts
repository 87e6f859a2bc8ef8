// The session's binding to the authentication-phase cores (RFC 1661 §3.5): which core to build for
// the method LCP agreed on, from the session options. The cores themselves live in src/ppp/auth/.
import type { PppOptions } from './types.js'
import type { AuthenticatorOptions, AuthPeerOptions, PppAuthCore, PppAuthMethod } from './auth/types.js'
import * as authIndex from './auth/index.js'

/** Factories for the authentication cores; tests may substitute doubles. */
export interface PppAuthFactories {
  createAuthenticator(method: PppAuthMethod, opts: AuthenticatorOptions): PppAuthCore
  createAuthPeer(method: PppAuthMethod, opts: AuthPeerOptions): PppAuthCore
}

export const defaultAuthFactories: PppAuthFactories = authIndex

/**
 * The server builds the authenticator for the method its Authentication-Protocol option got Acked
 * with; the client builds the peer for the method it Acked. Throws whatever the factory throws
 * (e.g. VpnError for a method without a core); the session turns that into 'auth-failed'.
 */
export function createAuthCore(opts: PppOptions, method: PppAuthMethod, f: PppAuthFactories): PppAuthCore {
  const restart = opts.restartMs !== undefined ? { restartMs: opts.restartMs } : {}
  if (opts.role === 'server') {
    return f.createAuthenticator(method, { rng: opts.rng, name: opts.authName, ...(opts.eapMethods ? { eapMethods: opts.eapMethods } : {}), ...restart })
  }
  return f.createAuthPeer(method, { rng: opts.rng, user: opts.user, password: opts.password, eapMethods: opts.eapMethods ?? ['eap-mschapv2'], ...restart })
}

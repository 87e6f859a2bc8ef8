// Shared vocabulary of the SSTP stream cores: options, events, timer values ([MS-SSTP] §3.1.2, §3.2.2, §3.3.2)
// and a PPP protocol peek used to keep PPP data frames out until the crypto binding is done (§3.3.5).
import type { Logger } from '../lib/log.js'
import type { Millis } from '../lib/time.js'
import type { Rng } from '../crypto/rng.js'
import type { AuthProof } from '../auth/types.js'
import type { PppLink } from '../ppp/types.js'

/** §3.1.2.1: "The first timer SHOULD be set at 3 seconds. The second timer SHOULD be set to 1 second." */
export const ABORT_TIMER_1_MS = 3000
export const ABORT_TIMER_2_MS = 1000
/** §3.1.2.2: "The first timer SHOULD be set to 5 seconds. The second timer SHOULD be set to 1 second." */
export const DISCONNECT_TIMER_1_MS = 5000
export const DISCONNECT_TIMER_2_MS = 1000
/** §3.1.2.3: "The Hello timer SHOULD be set to 60 seconds." */
export const HELLO_MS = 60_000
/** §3.2.2.1 / §3.3.2: negotiation timers "SHOULD be set to 60 seconds". */
export const NEGOTIATION_MS = 60_000

export interface SstpCommonOptions {
  readonly rng: Rng
  /** Creates the PPP session the connection carries, when the Call Connect exchange allows PPP to start. */
  readonly createPpp: (now: Millis) => PppLink
  /** Creation time, when the constructor's `now` argument is not given. */
  readonly now?: Millis
  readonly helloIntervalMs?: number
  readonly negotiationTimeoutMs?: number
  readonly logger?: Logger
}

export type SstpEvent =
  /** Server: PPP wants this proof verified; answer with handleAuthResult. */
  | { readonly type: 'authRequest'; readonly proof: AuthProof }
  /** PPP authentication succeeded (server: after our verdict; client: after the server proved itself). */
  | { readonly type: 'authenticated'; readonly user: string; readonly method: string }
  /** IPCP is open AND the crypto binding is done: traffic may flow. */
  | { readonly type: 'up'; readonly localAddress: string; readonly peerAddress: string; readonly dns: readonly string[]; readonly wins: readonly string[] }
  /** A received IPv4 packet (a view valid until the next call into the core). */
  | { readonly type: 'ip'; readonly packet: Uint8Array }
  /** Exactly once. Afterwards drain pollTransmit, then end the TLS socket. */
  | { readonly type: 'closed'; readonly reason: string; readonly message: string }

/** States shared by both roles; each role adds its own establishment states. */
export type ClosingState = 'abort-pending' | 'abort-timeout-pending' | 'disconnect-ack-pending' | 'disconnect-timeout-pending' | 'closed'
export const CLOSING: ReadonlySet<string> = new Set<string>(['abort-pending', 'abort-timeout-pending', 'disconnect-ack-pending', 'disconnect-timeout-pending', 'closed'])

/** PPP protocol number of a frame carried with or without FF 03 and with or without PFC; undefined if too short. */
export function pppProtocolOf(frame: Uint8Array): number | undefined {
  const o = frame[0] === 0xff && frame[1] === 0x03 ? 2 : 0
  const b0 = frame[o]
  if (b0 === undefined) return undefined
  if (b0 & 1) return b0
  const b1 = frame[o + 1]
  return b1 === undefined ? undefined : (b0 << 8) | b1
}

// What IKEv1 tasks exchange with the endpoint that runs them (DESIGN.md §4, strongSwan's task shape):
// an inbound message already decrypted, decoded and rule-checked, and the outcome of processing it.
import type { IsakmpHeader } from '../message/header.js'
import type { PayloadSpan } from '../message/message.js'
import type { IsakmpPayload } from '../message/payloads.js'
import type { MessageRuleName } from '../message/exchange-rules.js'

export interface InboundV1 {
  readonly header: IsakmpHeader
  readonly payloads: readonly IsakmpPayload[]
  readonly spans: readonly PayloadSpan[]
  /** The buffer the spans index: the message itself (plaintext) or its decrypted body. */
  readonly bytes: Uint8Array
  /** Offset just after the last payload (padding of a decrypted body starts here). */
  readonly end: number
}

/**
 * The outcome of `process`. 'reply': send these payloads (encrypted when `encrypted`), then the
 * task is `done` or waits for more. 'ignore': the message does not authenticate (wrong key, forged):
 * count it, change nothing, answer nothing (DESIGN.md §5). 'failed': the negotiation is over.
 */
export type TaskStep =
  | { readonly kind: 'reply'; readonly payloads: readonly IsakmpPayload[]; readonly encrypted: boolean; readonly done: boolean }
  | { readonly kind: 'wait'; readonly done: boolean }
  | { readonly kind: 'ignore'; readonly reason: string }
  | { readonly kind: 'failed'; readonly reason: string; readonly notify?: number }

export interface V1Task {
  /** The EXCHANGE_RULES entry the next inbound message must match, or undefined when none is expected. */
  expects(): MessageRuleName | undefined
  process(msg: InboundV1): TaskStep
}

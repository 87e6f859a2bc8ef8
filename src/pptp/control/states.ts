// RFC 2637 §3.1 (control connection states: idle, wait_ctl_reply, wait_stop_reply, established) and §3.2 (call
// states for outgoing calls: PAC idle / wait_cs_ans / established, PNS idle / wait_reply / established /
// wait_disconnect), written once as data and driven by one transition function. A missing cell is a protocol
// violation, so the tables list every legal move and nothing else.

/** One cell: the next state and the action the core performs (send a message, report, close). */
export interface Transition<S extends string, A extends string> { readonly next: S; readonly action: A }
export type StateTable<S extends string, E extends string, A extends string> = { readonly [K in S]: Partial<Readonly<Record<E, Transition<S, A>>>> }

/** The cell for (state, event), or undefined when the event is not allowed in that state (a protocol violation). */
export function transition<S extends string, E extends string, A extends string>(table: StateTable<S, E, A>, state: S, event: E): Transition<S, A> | undefined {
  return table[state][event]
}

// ---- §3.1 control connection ------------------------------------------------------------------------------------
export type CtlState = 'idle' | 'wait_ctl_reply' | 'wait_stop_reply' | 'established'
export type CtlEvent =
  | 'open' // local: TCP connected, we originate (the PNS)
  | 'rx_sccrq_ok' | 'rx_sccrq_bad' // Start-Control-Connection-Request we accept / refuse
  | 'rx_sccrp_ok' | 'rx_sccrp_bad' // Start-Control-Connection-Reply, Result Code 1 / anything else
  | 'rx_stopccrq' | 'rx_stopccrp'
  | 'close' // local: administrative close or a fatal error we answer with Stop-Control-Connection-Request
  | 'timeout' // reply timer (wait_ctl_reply, wait_stop_reply)
export type CtlAction = 'send_sccrq' | 'send_sccrp_ok' | 'send_sccrp_nak' | 'up' | 'fail' | 'send_stopccrp_close' | 'send_stopccrq' | 'close'

export const CONTROL_TABLE: StateTable<CtlState, CtlEvent, CtlAction> = {
  // §3.1.1 "idle: ... the originator sends SCCRQ and moves to wait_ctl_reply; on receipt of an acceptable SCCRQ
  // the receiver sends SCCRP and moves to established; an unacceptable one is answered with a negative SCCRP."
  idle: {
    open: { next: 'wait_ctl_reply', action: 'send_sccrq' },
    rx_sccrq_ok: { next: 'established', action: 'send_sccrp_ok' },
    rx_sccrq_bad: { next: 'idle', action: 'send_sccrp_nak' },
    close: { next: 'idle', action: 'close' },
  },
  // §3.1.1 "wait_ctl_reply: SCCRP with a positive result -> established; a negative one -> idle (connection closed)."
  // A second SCCRQ here would be a collision of two TCP connections (§3.1.1); on one TCP stream it is a violation.
  wait_ctl_reply: {
    rx_sccrp_ok: { next: 'established', action: 'up' },
    rx_sccrp_bad: { next: 'idle', action: 'fail' },
    rx_stopccrq: { next: 'idle', action: 'send_stopccrp_close' },
    close: { next: 'wait_stop_reply', action: 'send_stopccrq' },
    timeout: { next: 'idle', action: 'fail' },
  },
  // §3.1.1 "established: ... StopCCRQ received -> send StopCCRP, close; local close -> send StopCCRQ, wait_stop_reply."
  established: {
    rx_stopccrq: { next: 'idle', action: 'send_stopccrp_close' },
    close: { next: 'wait_stop_reply', action: 'send_stopccrq' },
  },
  // §3.1.1 "wait_stop_reply: StopCCRP received (or the timer expires) -> close the TCP connection, idle."
  // Both sides closing at once: answer the peer's request too, then close.
  wait_stop_reply: {
    rx_stopccrp: { next: 'idle', action: 'close' },
    rx_stopccrq: { next: 'idle', action: 'send_stopccrp_close' },
    timeout: { next: 'idle', action: 'close' },
    close: { next: 'wait_stop_reply', action: 'close' },
  },
}

// ---- §3.2.1 PAC, outgoing call (the gateway) ----------------------------------------------------------------------
export type PacCallState = 'idle' | 'wait_cs_ans' | 'established'
export type PacCallEvent = 'rx_ocrq' | 'answered' | 'refused' | 'rx_ccrq' | 'hangup' | 'rx_sli' | 'rx_wen'
export type PacCallAction = 'start' | 'send_ocrp_ok' | 'send_ocrp_nak' | 'send_cdn' | 'record_sli' | 'none'

export const PAC_CALL_TABLE: StateTable<PacCallState, PacCallEvent, PacCallAction> = {
  // §3.2.1 "idle: receive OCRQ -> wait_cs_ans" (the PAC places the call).
  idle: { rx_ocrq: { next: 'wait_cs_ans', action: 'start' } },
  // "wait_cs_ans: call answered -> send OCRP (Connected), established; failed -> send OCRP with the error, idle."
  // "receive CCRQ -> send CDN, idle."
  wait_cs_ans: {
    answered: { next: 'established', action: 'send_ocrp_ok' },
    refused: { next: 'idle', action: 'send_ocrp_nak' },
    rx_ccrq: { next: 'idle', action: 'send_cdn' },
    hangup: { next: 'idle', action: 'send_cdn' },
  },
  // "established: receive CCRQ -> send CDN, idle; local disconnect -> send CDN, idle." SLI only on an established call.
  established: {
    rx_ccrq: { next: 'idle', action: 'send_cdn' },
    hangup: { next: 'idle', action: 'send_cdn' },
    rx_sli: { next: 'established', action: 'record_sli' },
  },
}

// ---- §3.2.2 PNS, outgoing call (the client) -----------------------------------------------------------------------
export type PnsCallState = 'idle' | 'wait_reply' | 'established' | 'wait_disconnect'
export type PnsCallEvent = 'open' | 'rx_ocrp_ok' | 'rx_ocrp_bad' | 'rx_cdn' | 'hangup' | 'timeout' | 'rx_wen'
export type PnsCallAction = 'send_ocrq' | 'up' | 'fail' | 'send_ccrq' | 'down' | 'record_wen'

export const PNS_CALL_TABLE: StateTable<PnsCallState, PnsCallEvent, PnsCallAction> = {
  // §3.2.2 "idle: user request -> send OCRQ, wait_reply."
  idle: { open: { next: 'wait_reply', action: 'send_ocrq' } },
  // "wait_reply: OCRP positive -> established; OCRP negative -> idle; local clear -> send CCRQ, wait_disconnect."
  wait_reply: {
    rx_ocrp_ok: { next: 'established', action: 'up' },
    rx_ocrp_bad: { next: 'idle', action: 'fail' },
    hangup: { next: 'wait_disconnect', action: 'send_ccrq' },
    rx_cdn: { next: 'idle', action: 'fail' },
    timeout: { next: 'wait_disconnect', action: 'send_ccrq' },
  },
  // "established: receive CDN -> idle; local clear -> send CCRQ, wait_disconnect." WEN is informational (§2.14).
  established: {
    rx_cdn: { next: 'idle', action: 'down' },
    hangup: { next: 'wait_disconnect', action: 'send_ccrq' },
    rx_wen: { next: 'established', action: 'record_wen' },
  },
  // "wait_disconnect: receive CDN -> idle." Our timer bounds the wait for a PAC that never answers.
  wait_disconnect: {
    rx_cdn: { next: 'idle', action: 'down' },
    timeout: { next: 'idle', action: 'down' },
  },
}

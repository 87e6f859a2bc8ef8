// RFC 2661 §7.2.1 (control connection), §7.4.1/§7.4.2 (incoming calls, LAC and LNS) and §7.5.1/§7.5.2
// (outgoing calls, LAC and LNS) as data, driven by one transition function. A missing cell is a
// protocol violation: the core answers it as §7 says for "unexpected" messages (StopCCN or CDN).

/** One cell: the next state and the action the core performs. */
export interface Transition<S extends string, A extends string> { readonly next: S; readonly action: A }
export type StateTable<S extends string, E extends string, A extends string> = { readonly [K in S]: Partial<Readonly<Record<E, Transition<S, A>>>> }

/** The cell for (state, event), or undefined when the table has none (a protocol violation). */
export function transition<S extends string, E extends string, A extends string>(table: StateTable<S, E, A>, state: S, event: E): Transition<S, A> | undefined {
  return table[state][event]
}

const to = <S extends string, A extends string>(next: S, action: A): Transition<S, A> => ({ next, action })

// ---- §7.2.1 control connection ------------------------------------------------------------------------------
export type TunnelState = 'idle' | 'wait_ctl_reply' | 'wait_ctl_conn' | 'established'
export type TunnelEvent =
  | 'open' // local open request (a call wants a tunnel)
  | 'rx_sccrq_ok' | 'rx_sccrq_bad' // SCCRQ we accept / refuse
  | 'rx_sccrq_lose_tie' | 'rx_sccrq_win_tie' // SCCRQ crossing ours, §4.4.3 Tie Breaker
  | 'rx_sccrp_ok' | 'rx_sccrp_bad'
  | 'rx_scccn_ok' | 'rx_scccn_bad' // bad = e.g. a wrong Challenge Response (§5.1.1)
  | 'rx_stopccn'
  | 'close' // administrative close
  | 'peer_silent' // §5.8 retransmissions exhausted
export type TunnelAction =
  | 'send_sccrq' | 'send_sccrp' | 'send_scccn_up' | 'up' | 'sessions_open'
  | 'send_stopccn' // send StopCCN, clean up
  | 'cleanup' | 'requeue_sccrq' | 'ignore'

const stop = to<TunnelState, TunnelAction>('idle', 'send_stopccn')
const clean = to<TunnelState, TunnelAction>('idle', 'cleanup')

export const TUNNEL_TABLE: StateTable<TunnelState, TunnelEvent, TunnelAction> = {
  // §7.2.1 idle: "Local Open request -> Send SCCRQ -> wait-ctl-reply"; "Receive SCCRQ, acceptable ->
  // Send SCCRP -> wait-ctl-conn"; not acceptable -> StopCCN; "Receive SCCRP -> Send StopCCN, Clean up";
  // "Receive SCCCN -> Clean up". StopCCN in any state: clean up (§5.7).
  idle: {
    open: to('wait_ctl_reply', 'send_sccrq'),
    rx_sccrq_ok: to('wait_ctl_conn', 'send_sccrp'),
    rx_sccrq_bad: stop,
    rx_sccrp_ok: stop, rx_sccrp_bad: stop,
    rx_scccn_ok: clean, rx_scccn_bad: clean,
    rx_stopccn: clean,
  },
  // §7.2.1 wait-ctl-reply: "Receive SCCRP, acceptable -> Send SCCCN, Send tunnel-open event to waiting
  // sessions -> established"; not acceptable -> StopCCN; "Receive SCCRQ, lose tie-breaker -> Clean up,
  // Re-queue SCCRQ for idle state"; "Receive SCCCN -> Send StopCCN". The tie winner keeps its tunnel and
  // ignores the loser's SCCRQ (§4.4.3: "the 'loser' MUST silently discard its tunnel").
  wait_ctl_reply: {
    rx_sccrp_ok: to('established', 'send_scccn_up'),
    rx_sccrp_bad: stop,
    rx_sccrq_lose_tie: to('idle', 'requeue_sccrq'),
    rx_sccrq_win_tie: to('wait_ctl_reply', 'ignore'),
    rx_scccn_ok: stop, rx_scccn_bad: stop,
    rx_stopccn: clean,
    close: stop,
    peer_silent: clean,
  },
  // §7.2.1 wait-ctl-conn: "Receive SCCCN, acceptable -> Send tunnel-open event -> established"; not
  // acceptable -> StopCCN; "Receive SCCRQ, SCCRP -> Send StopCCN, Clean up".
  wait_ctl_conn: {
    rx_scccn_ok: to('established', 'up'),
    rx_scccn_bad: stop,
    rx_sccrq_ok: stop, rx_sccrq_bad: stop, rx_sccrq_lose_tie: stop, rx_sccrq_win_tie: stop,
    rx_sccrp_ok: stop, rx_sccrp_bad: stop,
    rx_stopccn: clean,
    close: stop,
    peer_silent: clean,
  },
  // §7.2.1 established: "Local Open request (new call) -> Send tunnel-open event to waiting sessions";
  // "Administrative tunnel close -> Send StopCCN, Clean up"; "Receive SCCRQ, SCCRP, SCCCN -> Send StopCCN".
  established: {
    open: to('established', 'sessions_open'),
    close: stop,
    rx_sccrq_ok: stop, rx_sccrq_bad: stop, rx_sccrq_lose_tie: stop, rx_sccrq_win_tie: stop,
    rx_sccrp_ok: stop, rx_sccrp_bad: stop,
    rx_scccn_ok: stop, rx_scccn_bad: stop,
    rx_stopccn: clean,
    peer_silent: clean,
  },
}

// ---- §7.4.1 LAC incoming call (our client dials out through its tunnel) -----------------------------------------
export type LacIcState = 'idle' | 'wait_tunnel' | 'wait_reply' | 'established'
export type LacIcEvent = 'ring' | 'tunnel_open' | 'rx_icrq' | 'rx_icrp_ok' | 'rx_icrp_bad' | 'rx_iccn' | 'rx_cdn' | 'close' | 'tunnel_down'
export type SessionAction = 'open_tunnel' | 'send_icrq' | 'send_icrp' | 'send_iccn' | 'send_ocrq' | 'send_ocrp' | 'send_occn' | 'up' | 'none' | 'send_cdn' | 'cleanup'

const cdn = <S extends string>(): Transition<S | 'idle', SessionAction> => to('idle', 'send_cdn')
const gone = <S extends string>(): Transition<S | 'idle', SessionAction> => to('idle', 'cleanup')

export const LAC_INCOMING_TABLE: StateTable<LacIcState, LacIcEvent, SessionAction> = {
  // §7.4.1 idle: "Bearer Ring or Ready to indicate incoming conn. -> Initiate tunnel open -> wait-tunnel";
  // "Receive ICCN, ICRP, CDN -> Clean up".
  idle: { ring: to('wait_tunnel', 'open_tunnel'), rx_iccn: gone(), rx_icrp_ok: gone(), rx_icrp_bad: gone(), rx_cdn: gone() },
  // wait-tunnel: "Bearer line drop or local close request -> Clean up"; "tunnel-open -> Send ICRQ -> wait-reply".
  wait_tunnel: { close: gone(), tunnel_open: to('wait_reply', 'send_icrq'), tunnel_down: gone() },
  // wait-reply: "Receive ICRP, acceptable -> Send ICCN -> established"; not acceptable -> CDN; "Receive ICRQ ->
  // Send CDN"; "Receive CDN, ICCN -> Clean up"; "Local close request or Bearer line drop -> Send CDN".
  wait_reply: { rx_icrp_ok: to('established', 'send_iccn'), rx_icrp_bad: cdn(), rx_icrq: cdn(), rx_cdn: gone(), rx_iccn: gone(), close: cdn(), tunnel_down: gone() },
  // established: "Receive CDN -> Clean up"; "Receive ICRQ, ICRP, ICCN -> Send CDN"; "line drop or local close -> Send CDN".
  established: { rx_cdn: gone(), rx_icrq: cdn(), rx_icrp_ok: cdn(), rx_icrp_bad: cdn(), rx_iccn: cdn(), close: cdn(), tunnel_down: gone() },
}

// ---- §7.4.2 LNS incoming call (the gateway answering a client's ICRQ) ---------------------------------------------
export type LnsIcState = 'idle' | 'wait_connect' | 'established'
export type LnsIcEvent = 'rx_icrq_ok' | 'rx_icrq_bad' | 'rx_icrp' | 'rx_iccn_ok' | 'rx_iccn_bad' | 'rx_cdn' | 'close' | 'tunnel_down'

export const LNS_INCOMING_TABLE: StateTable<LnsIcState, LnsIcEvent, SessionAction> = {
  // §7.4.2 idle: "Receive ICRQ, acceptable -> Send ICRP -> wait-connect"; not acceptable -> "Send CDN, Clean up";
  // "Receive ICRP -> Send CDN"; "Receive ICCN -> Clean up"; CDN in any state -> Clean up.
  idle: { rx_icrq_ok: to('wait_connect', 'send_icrp'), rx_icrq_bad: cdn(), rx_icrp: cdn(), rx_iccn_ok: gone(), rx_iccn_bad: gone(), rx_cdn: gone() },
  // wait-connect: "Receive ICCN acceptable -> Prepare for data -> established"; not acceptable -> CDN;
  // "Receive ICRQ, ICRP -> Send CDN"; "Local Close request -> Send CDN".
  wait_connect: { rx_iccn_ok: to('established', 'up'), rx_iccn_bad: cdn(), rx_icrq_ok: cdn(), rx_icrq_bad: cdn(), rx_icrp: cdn(), rx_cdn: gone(), close: cdn(), tunnel_down: gone() },
  // established: "Receive ICRQ, ICRP, ICCN -> Send CDN"; "Local Close request -> Send CDN"; CDN -> Clean up.
  established: { rx_icrq_ok: cdn(), rx_icrq_bad: cdn(), rx_icrp: cdn(), rx_iccn_ok: cdn(), rx_iccn_bad: cdn(), rx_cdn: gone(), close: cdn(), tunnel_down: gone() },
}

// ---- §7.5.1 LAC outgoing call (the LNS asked us to dial) -----------------------------------------------------------
export type LacOcState = 'idle' | 'wait_cs_answer' | 'established'
export type LacOcEvent = 'rx_ocrq_ok' | 'rx_ocrq_bad' | 'rx_ocrp' | 'rx_occn' | 'rx_cdn' | 'answered' | 'bearer_fail' | 'close' | 'tunnel_down'

export const LAC_OUTGOING_TABLE: StateTable<LacOcState, LacOcEvent, SessionAction> = {
  // §7.5.1 idle: "Receive OCRQ, acceptable -> Send OCRP, Open bearer -> wait-cs-answer"; not acceptable -> CDN;
  // "Receive OCRP -> Send CDN"; "Receive OCCN, CDN -> Clean up".
  idle: { rx_ocrq_ok: to('wait_cs_answer', 'send_ocrp'), rx_ocrq_bad: cdn(), rx_ocrp: cdn(), rx_occn: gone(), rx_cdn: gone() },
  // wait-cs-answer: "Bearer answer, framing detected -> Send OCCN -> established"; "Bearer failure -> Send CDN";
  // "Receive OCRQ, OCRP, OCCN -> Send CDN"; "Receive CDN -> Clean up".
  wait_cs_answer: { answered: to('established', 'send_occn'), bearer_fail: cdn(), rx_ocrq_ok: cdn(), rx_ocrq_bad: cdn(), rx_ocrp: cdn(), rx_occn: cdn(), rx_cdn: gone(), tunnel_down: gone() },
  // established: "Receive OCRQ, OCRP, OCCN -> Send CDN"; CDN -> Clean up; "Bearer line drop, Local close request -> Send CDN".
  established: { rx_ocrq_ok: cdn(), rx_ocrq_bad: cdn(), rx_ocrp: cdn(), rx_occn: cdn(), rx_cdn: gone(), bearer_fail: cdn(), close: cdn(), tunnel_down: gone() },
}

// ---- §7.5.2 LNS outgoing call -------------------------------------------------------------------------------------
export type LnsOcState = 'idle' | 'wait_tunnel' | 'wait_reply' | 'wait_connect' | 'established'
export type LnsOcEvent = 'open' | 'tunnel_open' | 'rx_ocrq' | 'rx_ocrp_ok' | 'rx_ocrp_bad' | 'rx_occn' | 'rx_cdn' | 'close' | 'tunnel_down'

export const LNS_OUTGOING_TABLE: StateTable<LnsOcState, LnsOcEvent, SessionAction> = {
  // §7.5.2 idle: "Local Open request -> Open tunnel -> wait-tunnel"; "Receive OCCN, OCRP, CDN -> Clean up".
  idle: { open: to('wait_tunnel', 'open_tunnel'), rx_occn: gone(), rx_ocrp_ok: gone(), rx_ocrp_bad: gone(), rx_cdn: gone() },
  // wait-tunnel: "tunnel-open -> Send OCRQ -> wait-reply"; "Local Close request -> Clean up".
  wait_tunnel: { tunnel_open: to('wait_reply', 'send_ocrq'), close: gone(), tunnel_down: gone() },
  // wait-reply: "Receive OCRP, acceptable -> none -> wait-connect"; not acceptable -> CDN; "Receive OCCN, OCRQ -> Send CDN".
  wait_reply: { rx_ocrp_ok: to('wait_connect', 'none'), rx_ocrp_bad: cdn(), rx_occn: cdn(), rx_ocrq: cdn(), rx_cdn: gone(), close: cdn(), tunnel_down: gone() },
  // wait-connect: "Receive OCCN -> none -> established"; "Receive OCRQ, OCRP -> Send CDN".
  wait_connect: { rx_occn: to('established', 'up'), rx_ocrq: cdn(), rx_ocrp_ok: cdn(), rx_ocrp_bad: cdn(), rx_cdn: gone(), close: cdn(), tunnel_down: gone() },
  // established: "Receive OCRQ, OCRP, OCCN -> Send CDN"; CDN -> Clean up; "Local Close request -> Send CDN".
  established: { rx_ocrq: cdn(), rx_ocrp_ok: cdn(), rx_ocrp_bad: cdn(), rx_occn: cdn(), rx_cdn: gone(), close: cdn(), tunnel_down: gone() },
}

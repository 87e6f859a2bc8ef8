// The RFC 1661 §4.1 option-negotiation state transition table, as data: one cell per
// (event, state) with its action list and next state. fsm.ts executes it; nothing else decides.
export const FSM_STATES = ['Initial', 'Starting', 'Closed', 'Stopped', 'Closing', 'Stopping', 'Req-Sent', 'Ack-Rcvd', 'Ack-Sent', 'Opened'] as const
export type FsmState = (typeof FSM_STATES)[number]

export const FSM_EVENTS = ['Up', 'Down', 'Open', 'Close', 'TO+', 'TO-', 'RCR+', 'RCR-', 'RCA', 'RCN', 'RTR', 'RTA', 'RUC', 'RXJ+', 'RXJ-', 'RXR'] as const
export type FsmEvent = (typeof FSM_EVENTS)[number]

/** §4.4 actions: tlu/tld/tls/tlf layer signals, irc/zrc restart counter, s** packets sent. */
export type FsmAction = 'tlu' | 'tld' | 'tls' | 'tlf' | 'irc' | 'zrc' | 'scr' | 'sca' | 'scn' | 'str' | 'sta' | 'scj' | 'ser'

/**
 * One cell. `next` undefined means the RFC's "-": the event cannot occur in that state (an
 * implementation error, or a packet before the link is up) and is ignored. Flags: 'r' restart
 * option, 'p' passive option, 'x' crossed connection (§4.1 footnotes). The restart and passive
 * options are not implemented: the cells run as printed (e.g. Open in Opened stays Opened). The
 * table is followed literally, so Opened+RCR (tld,scr,sca) sends without irc: the renegotiation
 * continues with the Restart counter left over from establishment (pppd re-initialises it there).
 */
export interface FsmCell {
  readonly actions: readonly FsmAction[]
  readonly next: FsmState | undefined
  readonly flag?: 'r' | 'p' | 'x'
}

const S = FSM_STATES
type Row = readonly (string | null)[]
// Rows transcribed from the §4.1 table: "a,b/N" = actions a,b then state N; null = "-".
const ROWS: Readonly<Record<FsmEvent, Row>> = {
  //        Initial    Starting     Closed         Stopped            Closing    Stopping   Req-Sent     Ack-Rcvd     Ack-Sent       Opened
  'Up':    ['/2',      'irc,scr/6', null,          null,              null,      null,      null,        null,        null,          null],
  'Down':  [null,      null,        '/0',          'tls/1',           '/0',      '/1',      '/1',        '/1',        '/1',          'tld/1'],
  'Open':  ['tls/1',   '/1',        'irc,scr/6',   '/3r',             '/5r',     '/5r',     '/6',        '/7',        '/8',          '/9r'],
  'Close': ['/0',      'tlf/0',     '/2',          '/2',              '/4',      '/4',      'irc,str/4', 'irc,str/4', 'irc,str/4',   'tld,irc,str/4'],
  'TO+':   [null,      null,        null,          null,              'str/4',   'str/5',   'scr/6',     'scr/6',     'scr/8',       null],
  'TO-':   [null,      null,        null,          null,              'tlf/2',   'tlf/3',   'tlf/3p',    'tlf/3p',    'tlf/3p',      null],
  'RCR+':  [null,      null,        'sta/2',       'irc,scr,sca/8',   '/4',      '/5',      'sca/8',     'sca,tlu/9', 'sca/8',       'tld,scr,sca/8'],
  'RCR-':  [null,      null,        'sta/2',       'irc,scr,scn/6',   '/4',      '/5',      'scn/6',     'scn/7',     'scn/6',       'tld,scr,scn/6'],
  'RCA':   [null,      null,        'sta/2',       'sta/3',           '/4',      '/5',      'irc/7',     'scr/6x',    'irc,tlu/9',   'tld,scr/6x'],
  'RCN':   [null,      null,        'sta/2',       'sta/3',           '/4',      '/5',      'irc,scr/6', 'scr/6x',    'irc,scr/8',   'tld,scr/6x'],
  'RTR':   [null,      null,        'sta/2',       'sta/3',           'sta/4',   'sta/5',   'sta/6',     'sta/6',     'sta/6',       'tld,zrc,sta/5'],
  'RTA':   [null,      null,        '/2',          '/3',              'tlf/2',   'tlf/3',   '/6',        '/6',        '/8',          'tld,scr/6'],
  'RUC':   [null,      null,        'scj/2',       'scj/3',           'scj/4',   'scj/5',   'scj/6',     'scj/7',     'scj/8',       'scj/9'],
  'RXJ+':  [null,      null,        '/2',          '/3',              '/4',      '/5',      '/6',        '/6',        '/8',          '/9'],
  'RXJ-':  [null,      null,        'tlf/2',       'tlf/3',           'tlf/2',   'tlf/3',   'tlf/3',     'tlf/3',     'tlf/3',       'tld,irc,str/5'],
  'RXR':   [null,      null,        '/2',          '/3',              '/4',      '/5',      '/6',        '/7',        '/8',          'ser/9'],
}

function parseCell(s: string | null): FsmCell {
  if (s === null) return { actions: [], next: undefined }
  const m = /^([a-z,]*)\/(\d)([rpx]?)$/.exec(s)
  if (!m) throw new Error(`bad FSM cell ${s}`)
  const actions = m[1] ? (m[1].split(',') as FsmAction[]) : []
  const next = S[Number(m[2])]
  const flag = m[3] ? (m[3] as 'r' | 'p' | 'x') : undefined
  return flag ? { actions, next, flag } : { actions, next }
}

/** TABLE[event][state]: the cell the automaton executes. */
export const FSM_TABLE: Readonly<Record<FsmEvent, Readonly<Record<FsmState, FsmCell>>>> = Object.fromEntries(
  FSM_EVENTS.map((e) => [e, Object.fromEntries(S.map((st, i) => [st, parseCell(ROWS[e][i] ?? null)]))]),
) as Record<FsmEvent, Record<FsmState, FsmCell>>

/** States in which the Restart timer runs (§4.6: it is stopped in all others). */
export const TIMER_STATES: ReadonlySet<FsmState> = new Set<FsmState>(['Closing', 'Stopping', 'Req-Sent', 'Ack-Rcvd', 'Ack-Sent'])

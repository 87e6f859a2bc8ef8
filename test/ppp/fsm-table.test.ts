// One test per cell of the RFC 1661 §4.1 state transition table. The expected cells are parsed from
// the table as the RFC prints it (below), independently of src/ppp/fsm/table.ts; each test drives a
// real Fsm into the state, fires the event and checks the observed effects, state and restart counter.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Fsm, type FsmContext, type FsmStrategy } from '../../src/ppp/fsm/fsm.js'
import { FSM_EVENTS, FSM_STATES, type FsmEvent, type FsmState } from '../../src/ppp/fsm/table.js'
import { PppCode, decodeControlPacket } from '../../src/ppp/fsm/packet.js'

// RFC 1661 §4.1, first half (states 0-5), as printed.
const RFC_LEFT = `
 Up   |    2     irc,scr/6     -         -         -         -
 Down |    -         -         0       tls/1       0         1
 Open |  tls/1       1     irc,scr/6     3r        5r        5r
 Close|    0       tlf/0       2         2         4         4
  TO+ |    -         -         -         -       str/4     str/5
  TO- |    -         -         -         -       tlf/2     tlf/3
 RCR+ |    -         -       sta/2 irc,scr,sca/8   4         5
 RCR- |    -         -       sta/2 irc,scr,scn/6   4         5
 RCA  |    -         -       sta/2     sta/3       4         5
 RCN  |    -         -       sta/2     sta/3       4         5
 RTR  |    -         -       sta/2     sta/3     sta/4     sta/5
 RTA  |    -         -         2         3       tlf/2     tlf/3
 RUC  |    -         -       scj/2     scj/3     scj/4     scj/5
 RXJ+ |    -         -         2         3         4         5
 RXJ- |    -         -       tlf/2     tlf/3     tlf/2     tlf/3
 RXR  |    -         -         2         3         4         5
`
// RFC 1661 §4.1, second half (states 6-9), as printed.
const RFC_RIGHT = `
 Up   |    -         -         -           -
 Down |    1         1         1         tld/1
 Open |    6         7         8           9r
 Close|irc,str/4 irc,str/4 irc,str/4 tld,irc,str/4
  TO+ |  scr/6     scr/6     scr/8         -
  TO- |  tlf/3p    tlf/3p    tlf/3p        -
 RCR+ |  sca/8   sca,tlu/9   sca/8   tld,scr,sca/8
 RCR- |  scn/6     scn/7     scn/6   tld,scr,scn/6
 RCA  |  irc/7     scr/6x  irc,tlu/9   tld,scr/6x
 RCN  |irc,scr/6   scr/6x  irc,scr/8   tld,scr/6x
 RTR  |  sta/6     sta/6     sta/6   tld,zrc,sta/5
 RTA  |    6         6         8       tld,scr/6
 RUC  |  scj/6     scj/7     scj/8       scj/9
 RXJ+ |    6         6         8           9
 RXJ- |  tlf/3     tlf/3     tlf/3   tld,irc,str/5
 RXR  |    6         7         8         ser/9
`

interface Expect { actions: string[]; next: number }
function parse(text: string, first: number, into: Map<string, Expect | null>): void {
  for (const line of text.split('\n')) {
    const bar = line.indexOf('|')
    if (bar < 0) continue
    const ev = line.slice(0, bar).trim()
    // Cells are separated by whitespace; an action list never contains spaces.
    line.slice(bar + 1).trim().split(/\s+/).forEach((cell, i) => {
      const key = `${ev}@${first + i}`
      if (cell === '-') { into.set(key, null); return }
      const m = /^(?:([a-z,]+)\/)?(\d)[rpx]?$/.exec(cell)
      assert.ok(m, `unparsable RFC cell ${cell}`)
      into.set(key, { actions: m[1] ? m[1].split(',') : [], next: Number(m[2]) })
    })
  }
}
const EXPECTED = new Map<string, Expect | null>()
parse(RFC_LEFT, 0, EXPECTED)
parse(RFC_RIGHT, 6, EXPECTED)
const RFC_STATE_NAMES = ['Initial', 'Starting', 'Closed', 'Stopped', 'Closing', 'Stopping', 'Req-Sent', 'Ack-Rcvd', 'Ack-Sent', 'Opened']

const MAX_CONFIGURE = 10
const MAX_TERMINATE = 2

/** A strategy that records tl* signals in order with the packets sent before them. */
function harness(): { fsm: Fsm; effects: string[]; flush: () => void } {
  const effects: string[] = []
  let fsm!: Fsm
  const flush = (): void => {
    for (let p = fsm.pollPacket(); p; p = fsm.pollPacket()) {
      const code = decodeControlPacket(p).code
      const name = ({ [PppCode.ConfigureRequest]: 'scr', [PppCode.ConfigureAck]: 'sca', [PppCode.ConfigureNak]: 'scn', [PppCode.ConfigureReject]: 'scn', [PppCode.TerminateRequest]: 'str', [PppCode.TerminateAck]: 'sta', [PppCode.CodeReject]: 'scj', [PppCode.EchoReply]: 'ser' } as Record<number, string>)[code]
      effects.push(name ?? `code${code}`)
    }
  }
  const hook = (n: string) => (): void => { flush(); effects.push(n) }
  const strategy: FsmStrategy = {
    name: 'TEST',
    buildRequest: () => [{ type: 1, data: Uint8Array.of(5, 220) }],
    processRequest: () => ({ kind: 'ack' }),
    processAck: () => {},
    processNak: () => true,
    processReject: () => true,
    up: hook('tlu'), down: hook('tld'), started: hook('tls'), finished: hook('tlf'),
  }
  fsm = new Fsm(strategy, { maxConfigure: MAX_CONFIGURE, maxTerminate: MAX_TERMINATE, restartMs: 1000 })
  return { fsm, effects, flush }
}

function ctxFor(ev: FsmEvent): FsmContext {
  switch (ev) {
    case 'RCR+': return { id: 42, reply: { code: PppCode.ConfigureAck, identifier: 42, data: new Uint8Array(0) } }
    case 'RCR-': return { id: 42, reply: { code: PppCode.ConfigureNak, identifier: 42, data: Uint8Array.of(1, 4, 5, 220) } }
    case 'RXR': return { id: 42, reply: { code: PppCode.EchoReply, identifier: 42, data: Uint8Array.of(0, 0, 0, 1) } }
    case 'RUC': return { id: 42, rejected: Uint8Array.of(99, 42, 0, 4) }
    default: return { id: 42 }
  }
}

// Event paths (from Initial) that reach each state through the automaton itself.
const PATHS: Record<FsmState, FsmEvent[]> = {
  'Initial': [],
  'Starting': ['Open'],
  'Closed': ['Up'],
  'Stopped': ['Up', 'Open', 'RXJ-'],
  'Closing': ['Up', 'Open', 'Close'],
  'Stopping': ['Up', 'Open', 'RCA', 'RCR+', 'RTR'],
  'Req-Sent': ['Up', 'Open'],
  'Ack-Rcvd': ['Up', 'Open', 'RCA'],
  'Ack-Sent': ['Up', 'Open', 'RCR+'],
  'Opened': ['Up', 'Open', 'RCA', 'RCR+'],
}

test('the RFC text parses into 16 events x 10 states', () => {
  assert.equal(EXPECTED.size, 160)
  assert.deepEqual(RFC_STATE_NAMES, [...FSM_STATES])
})

for (const ev of FSM_EVENTS) {
  for (let si = 0; si < FSM_STATES.length; si++) {
    const state = FSM_STATES[si]!
    test(`§4.1 cell ${ev} in ${state}`, () => {
      const exp = EXPECTED.get(`${ev}@${si}`)
      assert.notEqual(exp, undefined, 'cell missing from the RFC transcription')
      const { fsm, effects, flush } = harness()
      for (const e of PATHS[state]) fsm.fire(0, e, ctxFor(e))
      assert.equal(fsm.state, state, 'path did not reach the state')
      flush()
      effects.length = 0
      const before = fsm.restartCounter
      const illegalKey = `illegal-event.${ev}.${state}`
      fsm.fire(100, ev, ctxFor(ev))
      flush()
      if (exp === null) {
        assert.equal(fsm.state, state, '"-" must leave the state alone')
        assert.deepEqual(effects, [], '"-" must have no effect')
        assert.equal(fsm.counters.get(illegalKey), 1)
        return
      }
      const next = RFC_STATE_NAMES[exp!.next]!
      assert.equal(fsm.state, next, 'next state')
      assert.deepEqual(effects, exp!.actions.filter((a) => a !== 'irc' && a !== 'zrc'), 'observable actions in order')
      let counter = before
      for (const a of exp!.actions) {
        if (a === 'irc') counter = next === 'Closing' || next === 'Stopping' ? MAX_TERMINATE : MAX_CONFIGURE
        else if (a === 'zrc') counter = 0
        else if (a === 'scr' || a === 'str') counter--
      }
      assert.equal(fsm.restartCounter, counter, 'restart counter after irc/zrc/scr/str')
      const timerStates = ['Closing', 'Stopping', 'Req-Sent', 'Ack-Rcvd', 'Ack-Sent']
      if (!timerStates.includes(next)) assert.equal(fsm.nextTimeout(), undefined, 'restart timer stopped outside Closing..Ack-Sent')
      if (exp!.actions.some((a) => a === 'scr' || a === 'str' || a === 'zrc')) assert.equal(fsm.nextTimeout(), 1100, 'restart timer (re)started')
    })
  }
}

// RFC 2661 §7.2.1, §7.4.1, §7.4.2, §7.5.1, §7.5.2 state tables: one test per (state, event) cell,
// the empty cells included (they must stay protocol violations).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LAC_INCOMING_TABLE, LAC_OUTGOING_TABLE, LNS_INCOMING_TABLE, LNS_OUTGOING_TABLE, TUNNEL_TABLE, transition } from '../../src/l2tp/states.js'
import type { StateTable } from '../../src/l2tp/states.js'

/** Expected cells as "state event -> next action"; every pair not listed must be undefined. */
function check<S extends string, E extends string, A extends string>(name: string, table: StateTable<S, E, A>, states: readonly S[], events: readonly E[], cells: string): void {
  const want = new Map<string, string>()
  for (const line of cells.trim().split('\n')) {
    const m = /^\s*(\S+)\s+(\S+)\s+->\s+(\S+)\s+(\S+)\s*$/.exec(line)
    assert.ok(m, line)
    assert.ok(!want.has(`${m[1]} ${m[2]}`), `duplicate expectation ${line}`)
    want.set(`${m[1]} ${m[2]}`, `${m[3]} ${m[4]}`)
  }
  assert.deepEqual(Object.keys(table).sort(), [...states].sort(), `${name}: states`)
  for (const s of states) for (const e of events) {
    test(`${name}: ${s} × ${e}`, () => {
      const cell = transition(table, s, e)
      const w = want.get(`${s} ${e}`)
      if (w === undefined) assert.equal(cell, undefined, 'must be a violation')
      else assert.equal(`${cell?.next} ${cell?.action}`, w)
    })
  }
}

check('§7.2.1 tunnel', TUNNEL_TABLE, ['idle', 'wait_ctl_reply', 'wait_ctl_conn', 'established'],
  ['open', 'rx_sccrq_ok', 'rx_sccrq_bad', 'rx_sccrq_lose_tie', 'rx_sccrq_win_tie', 'rx_sccrp_ok', 'rx_sccrp_bad', 'rx_scccn_ok', 'rx_scccn_bad', 'rx_stopccn', 'close', 'peer_silent'], `
  idle open -> wait_ctl_reply send_sccrq
  idle rx_sccrq_ok -> wait_ctl_conn send_sccrp
  idle rx_sccrq_bad -> idle send_stopccn
  idle rx_sccrp_ok -> idle send_stopccn
  idle rx_sccrp_bad -> idle send_stopccn
  idle rx_scccn_ok -> idle cleanup
  idle rx_scccn_bad -> idle cleanup
  idle rx_stopccn -> idle cleanup
  wait_ctl_reply rx_sccrp_ok -> established send_scccn_up
  wait_ctl_reply rx_sccrp_bad -> idle send_stopccn
  wait_ctl_reply rx_sccrq_lose_tie -> idle requeue_sccrq
  wait_ctl_reply rx_sccrq_win_tie -> wait_ctl_reply ignore
  wait_ctl_reply rx_scccn_ok -> idle send_stopccn
  wait_ctl_reply rx_scccn_bad -> idle send_stopccn
  wait_ctl_reply rx_stopccn -> idle cleanup
  wait_ctl_reply close -> idle send_stopccn
  wait_ctl_reply peer_silent -> idle cleanup
  wait_ctl_conn rx_scccn_ok -> established up
  wait_ctl_conn rx_scccn_bad -> idle send_stopccn
  wait_ctl_conn rx_sccrq_ok -> idle send_stopccn
  wait_ctl_conn rx_sccrq_bad -> idle send_stopccn
  wait_ctl_conn rx_sccrq_lose_tie -> idle send_stopccn
  wait_ctl_conn rx_sccrq_win_tie -> idle send_stopccn
  wait_ctl_conn rx_sccrp_ok -> idle send_stopccn
  wait_ctl_conn rx_sccrp_bad -> idle send_stopccn
  wait_ctl_conn rx_stopccn -> idle cleanup
  wait_ctl_conn close -> idle send_stopccn
  wait_ctl_conn peer_silent -> idle cleanup
  established open -> established sessions_open
  established close -> idle send_stopccn
  established rx_sccrq_ok -> idle send_stopccn
  established rx_sccrq_bad -> idle send_stopccn
  established rx_sccrq_lose_tie -> idle send_stopccn
  established rx_sccrq_win_tie -> idle send_stopccn
  established rx_sccrp_ok -> idle send_stopccn
  established rx_sccrp_bad -> idle send_stopccn
  established rx_scccn_ok -> idle send_stopccn
  established rx_scccn_bad -> idle send_stopccn
  established rx_stopccn -> idle cleanup
  established peer_silent -> idle cleanup`)

check('§7.4.1 LAC incoming', LAC_INCOMING_TABLE, ['idle', 'wait_tunnel', 'wait_reply', 'established'],
  ['ring', 'tunnel_open', 'rx_icrq', 'rx_icrp_ok', 'rx_icrp_bad', 'rx_iccn', 'rx_cdn', 'close', 'tunnel_down'], `
  idle ring -> wait_tunnel open_tunnel
  idle rx_iccn -> idle cleanup
  idle rx_icrp_ok -> idle cleanup
  idle rx_icrp_bad -> idle cleanup
  idle rx_cdn -> idle cleanup
  wait_tunnel close -> idle cleanup
  wait_tunnel tunnel_open -> wait_reply send_icrq
  wait_tunnel tunnel_down -> idle cleanup
  wait_reply rx_icrp_ok -> established send_iccn
  wait_reply rx_icrp_bad -> idle send_cdn
  wait_reply rx_icrq -> idle send_cdn
  wait_reply rx_cdn -> idle cleanup
  wait_reply rx_iccn -> idle cleanup
  wait_reply close -> idle send_cdn
  wait_reply tunnel_down -> idle cleanup
  established rx_cdn -> idle cleanup
  established rx_icrq -> idle send_cdn
  established rx_icrp_ok -> idle send_cdn
  established rx_icrp_bad -> idle send_cdn
  established rx_iccn -> idle send_cdn
  established close -> idle send_cdn
  established tunnel_down -> idle cleanup`)

check('§7.4.2 LNS incoming', LNS_INCOMING_TABLE, ['idle', 'wait_connect', 'established'],
  ['rx_icrq_ok', 'rx_icrq_bad', 'rx_icrp', 'rx_iccn_ok', 'rx_iccn_bad', 'rx_cdn', 'close', 'tunnel_down'], `
  idle rx_icrq_ok -> wait_connect send_icrp
  idle rx_icrq_bad -> idle send_cdn
  idle rx_icrp -> idle send_cdn
  idle rx_iccn_ok -> idle cleanup
  idle rx_iccn_bad -> idle cleanup
  idle rx_cdn -> idle cleanup
  wait_connect rx_iccn_ok -> established up
  wait_connect rx_iccn_bad -> idle send_cdn
  wait_connect rx_icrq_ok -> idle send_cdn
  wait_connect rx_icrq_bad -> idle send_cdn
  wait_connect rx_icrp -> idle send_cdn
  wait_connect rx_cdn -> idle cleanup
  wait_connect close -> idle send_cdn
  wait_connect tunnel_down -> idle cleanup
  established rx_icrq_ok -> idle send_cdn
  established rx_icrq_bad -> idle send_cdn
  established rx_icrp -> idle send_cdn
  established rx_iccn_ok -> idle send_cdn
  established rx_iccn_bad -> idle send_cdn
  established rx_cdn -> idle cleanup
  established close -> idle send_cdn
  established tunnel_down -> idle cleanup`)

check('§7.5.1 LAC outgoing', LAC_OUTGOING_TABLE, ['idle', 'wait_cs_answer', 'established'],
  ['rx_ocrq_ok', 'rx_ocrq_bad', 'rx_ocrp', 'rx_occn', 'rx_cdn', 'answered', 'bearer_fail', 'close', 'tunnel_down'], `
  idle rx_ocrq_ok -> wait_cs_answer send_ocrp
  idle rx_ocrq_bad -> idle send_cdn
  idle rx_ocrp -> idle send_cdn
  idle rx_occn -> idle cleanup
  idle rx_cdn -> idle cleanup
  wait_cs_answer answered -> established send_occn
  wait_cs_answer bearer_fail -> idle send_cdn
  wait_cs_answer rx_ocrq_ok -> idle send_cdn
  wait_cs_answer rx_ocrq_bad -> idle send_cdn
  wait_cs_answer rx_ocrp -> idle send_cdn
  wait_cs_answer rx_occn -> idle send_cdn
  wait_cs_answer rx_cdn -> idle cleanup
  wait_cs_answer tunnel_down -> idle cleanup
  established rx_ocrq_ok -> idle send_cdn
  established rx_ocrq_bad -> idle send_cdn
  established rx_ocrp -> idle send_cdn
  established rx_occn -> idle send_cdn
  established rx_cdn -> idle cleanup
  established bearer_fail -> idle send_cdn
  established close -> idle send_cdn
  established tunnel_down -> idle cleanup`)

check('§7.5.2 LNS outgoing', LNS_OUTGOING_TABLE, ['idle', 'wait_tunnel', 'wait_reply', 'wait_connect', 'established'],
  ['open', 'tunnel_open', 'rx_ocrq', 'rx_ocrp_ok', 'rx_ocrp_bad', 'rx_occn', 'rx_cdn', 'close', 'tunnel_down'], `
  idle open -> wait_tunnel open_tunnel
  idle rx_occn -> idle cleanup
  idle rx_ocrp_ok -> idle cleanup
  idle rx_ocrp_bad -> idle cleanup
  idle rx_cdn -> idle cleanup
  wait_tunnel tunnel_open -> wait_reply send_ocrq
  wait_tunnel close -> idle cleanup
  wait_tunnel tunnel_down -> idle cleanup
  wait_reply rx_ocrp_ok -> wait_connect none
  wait_reply rx_ocrp_bad -> idle send_cdn
  wait_reply rx_occn -> idle send_cdn
  wait_reply rx_ocrq -> idle send_cdn
  wait_reply rx_cdn -> idle cleanup
  wait_reply close -> idle send_cdn
  wait_reply tunnel_down -> idle cleanup
  wait_connect rx_occn -> established up
  wait_connect rx_ocrq -> idle send_cdn
  wait_connect rx_ocrp_ok -> idle send_cdn
  wait_connect rx_ocrp_bad -> idle send_cdn
  wait_connect rx_cdn -> idle cleanup
  wait_connect close -> idle send_cdn
  wait_connect tunnel_down -> idle cleanup
  established rx_ocrq -> idle send_cdn
  established rx_ocrp_ok -> idle send_cdn
  established rx_ocrp_bad -> idle send_cdn
  established rx_occn -> idle send_cdn
  established rx_cdn -> idle cleanup
  established close -> idle send_cdn
  established tunnel_down -> idle cleanup`)

// RFC 2637 §3.1 control connection and §3.2.1/§3.2.2 outgoing call state tables: one test per (state, event) cell,
// including the empty cells that must stay protocol violations.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CONTROL_TABLE, PAC_CALL_TABLE, PNS_CALL_TABLE, transition } from '../../src/pptp/control/states.js'
import type { StateTable } from '../../src/pptp/control/states.js'

/** Expected cells as "state event -> next action"; every pair not listed must be undefined (violation). */
function check<S extends string, E extends string, A extends string>(name: string, table: StateTable<S, E, A>, states: readonly S[], events: readonly E[], cells: string): void {
  const want = new Map<string, string>()
  for (const line of cells.trim().split('\n')) {
    const m = /^\s*(\S+)\s+(\S+)\s+->\s+(\S+)\s+(\S+)\s*$/.exec(line)
    assert.ok(m, line)
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

// §3.1.1 (originator and receiver columns combined: one TCP connection, one role each).
check('§3.1 control', CONTROL_TABLE, ['idle', 'wait_ctl_reply', 'wait_stop_reply', 'established'],
  ['open', 'rx_sccrq_ok', 'rx_sccrq_bad', 'rx_sccrp_ok', 'rx_sccrp_bad', 'rx_stopccrq', 'rx_stopccrp', 'close', 'timeout'], `
  idle open -> wait_ctl_reply send_sccrq
  idle rx_sccrq_ok -> established send_sccrp_ok
  idle rx_sccrq_bad -> idle send_sccrp_nak
  idle close -> idle close
  wait_ctl_reply rx_sccrp_ok -> established up
  wait_ctl_reply rx_sccrp_bad -> idle fail
  wait_ctl_reply rx_stopccrq -> idle send_stopccrp_close
  wait_ctl_reply close -> wait_stop_reply send_stopccrq
  wait_ctl_reply timeout -> idle fail
  established rx_stopccrq -> idle send_stopccrp_close
  established close -> wait_stop_reply send_stopccrq
  wait_stop_reply rx_stopccrp -> idle close
  wait_stop_reply rx_stopccrq -> idle send_stopccrp_close
  wait_stop_reply timeout -> idle close
  wait_stop_reply close -> wait_stop_reply close`)

// §3.2.1 PAC outgoing call.
check('§3.2.1 PAC call', PAC_CALL_TABLE, ['idle', 'wait_cs_ans', 'established'],
  ['rx_ocrq', 'answered', 'refused', 'rx_ccrq', 'hangup', 'rx_sli', 'rx_wen'], `
  idle rx_ocrq -> wait_cs_ans start
  wait_cs_ans answered -> established send_ocrp_ok
  wait_cs_ans refused -> idle send_ocrp_nak
  wait_cs_ans rx_ccrq -> idle send_cdn
  wait_cs_ans hangup -> idle send_cdn
  established rx_ccrq -> idle send_cdn
  established hangup -> idle send_cdn
  established rx_sli -> established record_sli`)

// §3.2.2 PNS outgoing call.
check('§3.2.2 PNS call', PNS_CALL_TABLE, ['idle', 'wait_reply', 'established', 'wait_disconnect'],
  ['open', 'rx_ocrp_ok', 'rx_ocrp_bad', 'rx_cdn', 'hangup', 'timeout', 'rx_wen'], `
  idle open -> wait_reply send_ocrq
  wait_reply rx_ocrp_ok -> established up
  wait_reply rx_ocrp_bad -> idle fail
  wait_reply hangup -> wait_disconnect send_ccrq
  wait_reply rx_cdn -> idle fail
  wait_reply timeout -> wait_disconnect send_ccrq
  established rx_cdn -> idle down
  established hangup -> wait_disconnect send_ccrq
  established rx_wen -> established record_wen
  wait_disconnect rx_cdn -> idle down
  wait_disconnect timeout -> idle down`)

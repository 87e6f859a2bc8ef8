// The gateway's Call-Disconnect-Notify result codes (RFC 2637 §2.13) for calls whose PPP ended on our side.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cdnResult, PPTP_WEAKNESS_WARNING } from '../../src/gateway/pptp-listener.js'

test('CDN result: Lost Carrier (1) for a silent peer, Admin Shutdown (3) otherwise; never Request (4) unprompted', () => {
  assert.equal(cdnResult('echo-timeout'), 1)
  for (const r of ['auth-failed', 'admin', 'peer-terminated', 'negotiation-timeout', 'mppe-required', 'routes-in-use']) assert.equal(cdnResult(r), 3, r)
})

test('the start-up warning says why PPTP is weak and what to use instead', () => {
  assert.match(PPTP_WEAKNESS_WARNING, /MS-CHAPv2/)
  assert.match(PPTP_WEAKNESS_WARNING, /DES key search/)
  assert.match(PPTP_WEAKNESS_WARNING, /no integrity/)
  assert.match(PPTP_WEAKNESS_WARNING, /SSTP/)
})

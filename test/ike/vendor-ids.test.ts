// Vendor IDs checked against their definitions: MD5 of the RFC 3947 / draft strings (RFC 3947 §3.1),
// the RFC 3706 §3 DPD bytes, and the NAT-T dialect choice.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { fromHex, toHex } from '../../src/lib/bytes.js'
import { VID_CISCO_UNITY, VID_DPD, VID_FRAGMENTATION, VID_NAT_T_DRAFT_02, VID_NAT_T_DRAFT_02N, VID_NAT_T_DRAFT_03, VID_NAT_T_RFC3947, natTDialect, vendorIdHasPrefix } from '../../src/ike/v1/vendor-ids.js'

const md5 = (s: string): string => createHash('md5').update(s).digest('hex')

test('NAT-T, fragmentation and Unity vendor IDs are MD5 of their strings', () => {
  assert.equal(toHex(VID_NAT_T_RFC3947), md5('RFC 3947'))
  assert.equal(toHex(VID_NAT_T_DRAFT_02N), md5('draft-ietf-ipsec-nat-t-ike-02\n'))
  assert.equal(toHex(VID_NAT_T_DRAFT_02), md5('draft-ietf-ipsec-nat-t-ike-02'))
  assert.equal(toHex(VID_NAT_T_DRAFT_03), md5('draft-ietf-ipsec-nat-t-ike-03'))
  assert.equal(toHex(VID_FRAGMENTATION), md5('FRAGMENTATION'))
  assert.equal(toHex(VID_CISCO_UNITY), md5('CISCO-UNITY'))
})

test('RFC 3706 §3: DPD vendor ID is AFCAD71368A1F1C96B8696FC77570100', () => {
  assert.equal(toHex(VID_DPD), 'afcad71368a1f1c96b8696fc77570100')
})

test('natTDialect prefers RFC 3947, then the newest draft; none without a NAT-T VID', () => {
  assert.equal(natTDialect([VID_NAT_T_DRAFT_02N, VID_NAT_T_RFC3947, VID_NAT_T_DRAFT_03]), 'rfc3947')
  assert.equal(natTDialect([VID_NAT_T_DRAFT_02N, VID_NAT_T_DRAFT_02]), 'draft-02')
  assert.equal(natTDialect([VID_NAT_T_DRAFT_02N]), 'draft-02n')
  assert.equal(natTDialect([VID_DPD]), undefined)
})

test('vendorIdHasPrefix matches VIDs that carry capability bytes (Cisco fragmentation + c0000000)', () => {
  assert.equal(vendorIdHasPrefix(fromHex(toHex(VID_FRAGMENTATION) + 'c0000000'), VID_FRAGMENTATION), true)
  assert.equal(vendorIdHasPrefix(VID_FRAGMENTATION.subarray(0, 8), VID_FRAGMENTATION), false)
})

// LCP Authentication-Protocol option data (RFC 1661 §6.2, RFC 1994 §3, RFC 2759 §2, RFC 3748 §4.1).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeAuthOption, encodeAuthOption } from '../../src/ppp/auth/index.js'
import type { PppAuthMethod } from '../../src/ppp/auth/types.js'

test('option data golden bytes: c023 | c223 05 | c223 81 | c227', () => {
  const cases: [PppAuthMethod, number[]][] = [
    ['pap', [0xc0, 0x23]], // RFC 1334 §2.1
    ['chap-md5', [0xc2, 0x23, 0x05]], // RFC 1994 §3: Algorithm 5 = MD5
    ['mschapv2', [0xc2, 0x23, 0x81]], // RFC 2759 §2: Algorithm 0x81
    ['eap', [0xc2, 0x27]], // RFC 3748 §4.1 (PPP protocol c227)
  ]
  for (const [m, bytes] of cases) {
    assert.deepEqual([...encodeAuthOption(m)], bytes, m)
    assert.equal(decodeAuthOption(Uint8Array.from(bytes)), m)
  }
})

test('unsupported or malformed option data decodes to undefined', () => {
  for (const bytes of [[], [0xc0], [0xc2, 0x23], [0xc2, 0x23, 0x80], [0xc2, 0x23, 0x06], [0xc0, 0x23, 0x00], [0xc2, 0x27, 0x01], [0xc2, 0x23, 0x05, 0x00], [0xc0, 0x25]]) {
    assert.equal(decodeAuthOption(Uint8Array.from(bytes)), undefined, JSON.stringify(bytes))
  }
})

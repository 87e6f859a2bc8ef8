// IPv4 address and prefix parsing, formatting and containment.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ipv4ToString, isIpv4, parseIpv4, parsePrefix, prefixContains, prefixMask, prefixSize, prefixToString, tryParsePrefix } from '../../src/ip/prefix.js'
import { VpnError } from '../../src/lib/errors.js'

test('dotted quad <-> u32 round trips for every u32', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (v) => {
    assert.equal(parseIpv4(ipv4ToString(v)), v)
  }))
  assert.equal(parseIpv4('198.18.0.1'), 0xc6120001)
  assert.equal(ipv4ToString(0xffffffff), '255.255.255.255')
  assert.equal(ipv4ToString(0), '0.0.0.0')
})

test('malformed addresses are refused', () => {
  for (const s of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.-4', ' 1.2.3.4', '1.2.3.4 ', 'a.b.c.d', '1..3.4', '1.2.3.4/']) {
    assert.equal(parseIpv4(s), undefined, s)
  }
  assert.equal(isIpv4('0.0.0.0'), true)
})

test('prefixes parse, normalise the network and compute the last address', () => {
  const p = parsePrefix('198.19.10.77/24')
  assert.equal(prefixToString(p), '198.19.10.0/24')
  assert.equal(ipv4ToString(p.address), '198.19.10.77')
  assert.equal(ipv4ToString(p.last), '198.19.10.255')
  assert.equal(ipv4ToString(p.mask), '255.255.255.0')
  assert.equal(prefixSize(p), 256)
  assert.equal(prefixToString(parsePrefix('10.1.2.3')), '10.1.2.3/32')
  assert.equal(prefixToString(parsePrefix('10.1.2.3/0')), '0.0.0.0/0')
  assert.equal(prefixMask(32), 0xffffffff)
  assert.equal(prefixMask(1), 0x80000000)
  for (const s of ['10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/08', '10.0.0.0/a', '10.0.0/8', '/8']) assert.equal(tryParsePrefix(s), undefined, s)
  assert.throws(() => parsePrefix('10.0.0.0/33'), (e: unknown) => e instanceof VpnError && e.code === 'ERR_BAD_PREFIX')
})

test('containment agrees with a bitwise definition', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 0xffffffff }), (net, len, a) => {
    const p = parsePrefix(`${ipv4ToString(net)}/${len}`)
    const expected = len === 0 || (a >>> (32 - len)) === (net >>> (32 - len))
    assert.equal(prefixContains(p, a), expected)
    assert.equal(prefixContains(p, ipv4ToString(a)), expected)
    assert.equal(prefixContains(p, p.network), true)
    assert.equal(prefixContains(p, p.last), true)
  }))
  assert.equal(prefixContains(parsePrefix('10.0.0.0/8'), 'not-an-ip'), false)
})

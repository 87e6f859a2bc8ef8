// The `l2tp:` section (plain L2TP, issue 4 §4): RFC 3193 wants L2TP inside IPsec, which is not built yet,
// so listing l2tp is refused unless l2tp.allowWithoutIpsec says so explicitly.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../src/config/load.js'
import { renderConfig } from '../../src/config/template.js'
import { DEFAULTS, defaultTunMtu } from '../../src/config/defaults.js'
import { VpnError } from '../../src/lib/errors.js'
import { tunnelMtu } from '../../src/dataplane/mtu.js'

const DIR = '/etc/gatehouse'

test('defaults: UDP 1701, plain L2TP not allowed', () => {
  const c = parseConfig('', DIR)
  assert.deepEqual(c.l2tp, { port: 1701, allowWithoutIpsec: false })
  assert.deepEqual(DEFAULTS.l2tp, { port: 1701, allowWithoutIpsec: false })
})

test('protocols [sstp, l2tp] without allowWithoutIpsec is refused, saying IPsec is missing and naming the switch', () => {
  assert.throws(() => parseConfig('protocols: [sstp, l2tp]\n', DIR), (e: unknown) => {
    assert.ok(e instanceof VpnError)
    assert.equal(e.code, 'ERR_CONFIG')
    assert.match(e.message, /^config protocols\[1\]: l2tp is not implemented yet/)
    assert.match(e.message, /IPsec is not implemented yet/)
    assert.match(e.message, /l2tp\.allowWithoutIpsec: true/)
    return true
  })
  assert.throws(() => parseConfig('protocols: [l2tp]\nl2tp:\n  allowWithoutIpsec: false\n', DIR), /IPsec is not implemented yet/)
})

test('with allowWithoutIpsec: true, l2tp is accepted; port is validated', () => {
  const c = parseConfig('protocols: [sstp, l2tp]\nl2tp:\n  port: 1702\n  allowWithoutIpsec: true\n', DIR)
  assert.deepEqual(c.protocols, ['sstp', 'l2tp'])
  assert.deepEqual(c.l2tp, { port: 1702, allowWithoutIpsec: true })
  assert.throws(() => parseConfig('l2tp:\n  port: 0\n', DIR), /config l2tp\.port/)
  assert.throws(() => parseConfig('l2tp:\n  allowWithoutIpsec: yes please\n', DIR), /config l2tp\.allowWithoutIpsec/)
  assert.throws(() => parseConfig('l2tp:\n  psk: x\n', DIR), /l2tp/)
  // allowing it does not enable it: only `protocols` does.
  assert.deepEqual(parseConfig('l2tp:\n  allowWithoutIpsec: true\n', DIR).protocols, ['sstp'])
})

test('ikev2 stays refused as not implemented', () => {
  assert.throws(() => parseConfig('protocols: [ikev2]\n', DIR), /ikev2 is not implemented yet/)
})

test('the rendered template carries the l2tp section with its defaults and loads back', () => {
  const t = renderConfig({})
  assert.match(t, /^l2tp:\n {2}port: 1701\n {2}allowWithoutIpsec: false$/m)
  assert.match(t, /RFC 3193/)
  assert.deepEqual(parseConfig(t, DIR).l2tp, { port: 1701, allowWithoutIpsec: false })
})

test('the default TUN MTU counts plain L2TP when it is enabled', () => {
  assert.equal(defaultTunMtu(['l2tp']), tunnelMtu('l2tp'))
  assert.equal(defaultTunMtu(['sstp', 'l2tp']), Math.min(tunnelMtu('sstp'), tunnelMtu('l2tp')))
  assert.equal(defaultTunMtu(['pptp', 'l2tp']), tunnelMtu('l2tp'), '1454 < 1456')
})

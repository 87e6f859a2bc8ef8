// The `l2tp:` and `ipsec:` sections (issue 4 §4, §8): l2tp means L2TP/IPsec (RFC 3193); plain L2TP only with
// l2tp.allowWithoutIpsec; IPsec authenticates with machine certificates unless a pre-shared key is listed.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../src/config/load.js'
import { renderConfig } from '../../src/config/template.js'
import { DEFAULTS, defaultTunMtu } from '../../src/config/defaults.js'
import { tunnelMtu } from '../../src/dataplane/mtu.js'

const DIR = '/etc/gatehouse'

test('defaults: UDP 1701 inside IPsec, plain L2TP not allowed, certificates only, ipsec.psk in the directory', () => {
  const c = parseConfig('', DIR)
  assert.deepEqual(c.l2tp, { port: 1701, allowWithoutIpsec: false })
  assert.deepEqual(DEFAULTS.l2tp, { port: 1701, allowWithoutIpsec: false })
  assert.deepEqual(c.ipsec, { auth: ['certificate'], pskFile: '/etc/gatehouse/ipsec.psk', aggressiveMode: false })
})

test('protocols [sstp, l2tp] is accepted as L2TP/IPsec without any switch', () => {
  const c = parseConfig('protocols: [sstp, l2tp]\n', DIR)
  assert.deepEqual(c.protocols, ['sstp', 'l2tp'])
  assert.equal(c.l2tp.allowWithoutIpsec, false)
})

test('ipsec.auth takes certificate and psk, refuses anything else, an empty list and repeats', () => {
  assert.deepEqual(parseConfig('ipsec:\n  auth: [certificate, psk]\n  pskFile: /srv/k\n', DIR).ipsec, { auth: ['certificate', 'psk'], pskFile: '/srv/k', aggressiveMode: false })
  assert.deepEqual(parseConfig('ipsec:\n  auth: [psk]\n', DIR).ipsec.auth, ['psk'])
  assert.throws(() => parseConfig('ipsec:\n  auth: [xauth]\n', DIR), /config ipsec\.auth\[0\]/)
  assert.throws(() => parseConfig('ipsec:\n  auth: []\n', DIR), /config ipsec\.auth: expected certificate, psk or both/)
  assert.throws(() => parseConfig('ipsec:\n  auth: [psk, psk]\n', DIR), /each method may appear once/)
  assert.throws(() => parseConfig('ipsec:\n  secret: x\n', DIR), /ipsec/)
})

test('allowWithoutIpsec and the port are validated', () => {
  const c = parseConfig('protocols: [sstp, l2tp]\nl2tp:\n  port: 1702\n  allowWithoutIpsec: true\n', DIR)
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

test('the rendered template carries the l2tp and ipsec sections with their defaults and loads back', () => {
  const t = renderConfig({})
  assert.match(t, /^l2tp:\n {2}port: 1701\n(?: {2}#.*\n)+ {2}allowWithoutIpsec: false$/m)
  assert.match(t, /^ipsec:\n {2}auth: \["certificate"\]\n {2}pskFile: "ipsec.psk"$/m)
  assert.match(t, /RFC 3193/)
  assert.match(t, /EVERY client shares/)
  const c = parseConfig(t, DIR)
  assert.deepEqual(c.l2tp, { port: 1701, allowWithoutIpsec: false })
  assert.deepEqual(c.ipsec.auth, ['certificate'])
})

test('the default TUN MTU counts L2TP/IPsec (ESP) when l2tp is enabled', () => {
  assert.equal(tunnelMtu('l2tp-ipsec'), 1384)
  assert.equal(defaultTunMtu(['l2tp']), tunnelMtu('l2tp-ipsec'))
  assert.equal(defaultTunMtu(['sstp', 'l2tp']), Math.min(tunnelMtu('sstp'), tunnelMtu('l2tp-ipsec')))
  assert.equal(defaultTunMtu(['pptp', 'l2tp']), 1384)
  assert.ok(tunnelMtu('l2tp-ipsec') < tunnelMtu('l2tp'), 'ESP costs more than plain L2TP')
})

test('ipsec.aggressiveMode: off by default, only with psk in ipsec.auth, and the template explains why it is weak', () => {
  assert.equal(DEFAULTS.ipsec.aggressiveMode, false)
  assert.equal(parseConfig('ipsec:\n  auth: [psk]\n  aggressiveMode: true\n', DIR).ipsec.aggressiveMode, true)
  assert.throws(() => parseConfig('ipsec:\n  aggressiveMode: true\n', DIR), /config ipsec\.aggressiveMode: aggressive mode is for pre-shared-key clients .* add psk to ipsec\.auth/)
  assert.throws(() => parseConfig('ipsec:\n  auth: [psk]\n  aggressiveMode: maybe\n', DIR), /config ipsec\.aggressiveMode/)
  const t = renderConfig({})
  assert.match(t, /^ {2}aggressiveMode: false$/m)
  assert.match(t, /cracked offline/)
  assert.equal(parseConfig(t, DIR).ipsec.aggressiveMode, false)
})

test('l2tp.secretFile: absent by default, resolved against the directory, refused when empty', () => {
  assert.equal(parseConfig('', DIR).l2tp.secretFile, undefined)
  assert.equal(parseConfig('l2tp:\n  secretFile: l2tp.secret\n', DIR).l2tp.secretFile, '/etc/gatehouse/l2tp.secret')
  assert.throws(() => parseConfig('l2tp:\n  secretFile: ""\n', DIR), /config l2tp\.secretFile/)
  assert.match(renderConfig({}), /# secretFile: "l2tp.secret"/)
})

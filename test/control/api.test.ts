// Control API dispatch and the firewall guidance text.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { dispatch, type ControlHandler } from '../../src/control/api.js'
import { renderFirewall } from '../../src/gateway/firewall.js'
import { parseTarget } from '../../src/cli/connect.js'

const handler: ControlHandler = {
  status: () => { throw new Error('boom') },
  sessions: () => [],
  disconnect: (id) => id === 'x',
}

test('dispatch validates requests and never throws', () => {
  assert.deepEqual(dispatch(handler, { cmd: 'sessions' }), { ok: true, result: [] })
  assert.deepEqual(dispatch(handler, { cmd: 'disconnect', id: 'x' }), { ok: true, result: { disconnected: 'x' } })
  assert.equal(dispatch(handler, { cmd: 'disconnect', id: 'y' }).ok, false)
  assert.equal(dispatch(handler, { cmd: 'disconnect' }).ok, false)
  assert.equal(dispatch(handler, null).ok, false)
  assert.equal(dispatch(handler, { cmd: 'rm -rf' }).ok, false)
  const r = dispatch(handler, { cmd: 'status' })
  assert.ok(!r.ok && r.error.includes('boom'))
})

test('firewall: SSTP opens its TCP port, forwards the pool; later protocols name their ports', () => {
  const t = renderFirewall({ protocols: ['sstp'], listen: '0.0.0.0', sstpPort: 443, pool: '198.19.0.0/24', tunName: 'gh0' })
  assert.match(t, /tcp dport 443 accept/)
  assert.match(t, /iptables -A INPUT -p tcp --dport 443 -j ACCEPT/)
  assert.match(t, /iifname "gh0" ip saddr 198\.19\.0\.0\/24 accept/)
  assert.doesNotMatch(t, /1723|gre|esp/)
  const all = renderFirewall({ protocols: ['sstp', 'pptp', 'l2tp'], listen: '203.0.113.1', sstpPort: 443, pool: '198.19.0.0/24', tunName: 'gh0', natInterface: 'eth0' })
  assert.match(all, /tcp dport 1723 ip daddr 203\.0\.113\.1 accept/)
  assert.match(all, /ip protocol gre/)
  assert.match(all, /udp dport \{ 500, 4500 \}/)
  assert.match(all, /ip protocol esp/)
  assert.match(all, /oifname "eth0" masquerade/)
})

test('connect URL parsing names the problem', () => {
  assert.deepEqual(parseTarget('sstp://vpn.example.com'), { scheme: 'sstp', host: 'vpn.example.com', port: 443 })
  assert.deepEqual(parseTarget('sstp://198.18.0.1:8443'), { scheme: 'sstp', host: '198.18.0.1', port: 8443 })
  assert.deepEqual(parseTarget('pptp://198.18.0.1'), { scheme: 'pptp', host: '198.18.0.1', port: 1723 })
  assert.deepEqual(parseTarget('l2tp://198.18.0.1'), { scheme: 'l2tp', host: '198.18.0.1', port: 1701 })
  assert.throws(() => parseTarget('ikev2://h'), /not supported by this client yet/)
  assert.throws(() => parseTarget('vpn.example.com'), /not a URL/)
})

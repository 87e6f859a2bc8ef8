// `gatehouse connect l2tp://` (issue 4 §4 step 1): the scheme, the --no-ipsec switch, and close reasons in words.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { L2TP_NEEDS_NO_IPSEC, parseTarget, runConnect } from '../../src/cli/connect.js'
import { describeCloseReason } from '../../src/client/errors.js'
import { PLAIN_L2TP_CLIENT_WARNING } from '../../src/client/l2tp-client.js'
import { VpnError } from '../../src/lib/errors.js'

test('l2tp:// defaults to UDP 1701 and takes a port', () => {
  assert.deepEqual(parseTarget('l2tp://gw.example'), { scheme: 'l2tp', host: 'gw.example', port: 1701 })
  assert.deepEqual(parseTarget('l2tp://198.18.0.1:1702'), { scheme: 'l2tp', host: '198.18.0.1', port: 1702 })
  assert.throws(() => parseTarget('ipsec://x'), /sstp:\/\/HOST\[:PORT\], pptp:\/\/HOST\[:PORT\] or l2tp:\/\/HOST\[:PORT\]/)
})

test('l2tp:// without --no-ipsec is a usage error before any prompt; --no-ipsec elsewhere too', async () => {
  const usage = (args: string[], re: RegExp) => assert.rejects(runConnect(args), (e: unknown) => e instanceof VpnError && e.code === 'ERR_USAGE' && re.test(e.message))
  await usage(['l2tp://198.18.0.1', '--user', 'alice'], /^IPsec is not implemented yet in this client; --no-ipsec connects without it \(weak, like PPTP\)$/)
  assert.equal(L2TP_NEEDS_NO_IPSEC, 'IPsec is not implemented yet in this client; --no-ipsec connects without it (weak, like PPTP)')
  await usage(['pptp://198.18.0.1', '--user', 'alice', '--no-ipsec'], /--no-ipsec applies to l2tp:\/\/ only/)
  await usage(['l2tp://198.18.0.1', '--user', 'alice', '--no-ipsec', '--insecure'], /apply to sstp:\/\/ only/)
})

test('L2TP close reasons read as sentences naming the cause', () => {
  assert.match(describeCloseReason('peer-silent', 'no acknowledgement after 5 retransmissions', 'alice'), /does not answer L2TP on UDP .*UDP 1701/)
  assert.match(describeCloseReason('tunnel-closed', 'peer-stopccn result 6', 'alice'), /closed the L2TP tunnel \(peer-stopccn result 6\)/)
  assert.match(describeCloseReason('call-refused', 'CDN result 4', 'alice'), /refused the call \(CDN result 4\)/)
  assert.match(describeCloseReason('auth-failed', '', 'alice'), /authentication failed for user "alice"/)
})

test('the client warning says what plain L2TP exposes', () => {
  assert.match(PLAIN_L2TP_CLIENT_WARNING, /without IPsec/)
  assert.match(PLAIN_L2TP_CLIENT_WARNING, /MS-CHAPv2/)
  assert.match(PLAIN_L2TP_CLIENT_WARNING, /sstp:\/\//)
})

test('`gatehouse firewall` with l2tp names UDP 1701 and marks IKE/ESP as the coming IPsec', async () => {
  const { renderFirewall } = await import('../../src/gateway/firewall.js')
  const t = renderFirewall({ protocols: ['sstp', 'l2tp'], listen: '203.0.113.1', sstpPort: 443, pool: '198.19.0.0/24', tunName: 'gh0' })
  assert.match(t, /udp dport 1701 ip daddr 203\.0\.113\.1 accept {3}# L2TP: UDP 1701/)
  assert.match(t, /-A INPUT -p udp --dport 1701 -d 203\.0\.113\.1 -j ACCEPT/)
  assert.match(t, /udp dport \{ 500, 4500 \}.*L2TP\/IPsec, coming/)
  assert.match(t, /ip protocol esp.*L2TP\/IPsec, coming/)
})

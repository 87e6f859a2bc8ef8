// `gatehouse connect l2tp://` (issue 4 §4 step 1): the scheme, the --no-ipsec switch, and close reasons in words.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { L2TP_NEEDS_IPSEC_AUTH, parseTarget, runConnect } from '../../src/cli/connect.js'
import { describeCloseReason } from '../../src/client/errors.js'
import { PLAIN_L2TP_CLIENT_WARNING } from '../../src/client/l2tp-client.js'
import { VpnError } from '../../src/lib/errors.js'

test('l2tp:// defaults to UDP 1701 and takes a port', () => {
  assert.deepEqual(parseTarget('l2tp://gw.example'), { scheme: 'l2tp', host: 'gw.example', port: 1701 })
  assert.deepEqual(parseTarget('l2tp://198.18.0.1:1702'), { scheme: 'l2tp', host: '198.18.0.1', port: 1702 })
  assert.throws(() => parseTarget('ipsec://x'), /sstp:\/\/HOST\[:PORT\], pptp:\/\/HOST\[:PORT\] or l2tp:\/\/HOST\[:PORT\]/)
})

test('l2tp:// needs --cert, --psk-file or --no-ipsec, one of them, before any prompt', async () => {
  const usage = (args: string[], re: RegExp) => assert.rejects(runConnect(args), (e: unknown) => e instanceof VpnError && e.code === 'ERR_USAGE' && re.test(e.message))
  await usage(['l2tp://198.18.0.1', '--user', 'alice'], /^L2TP\/IPsec needs --cert FILE\.p12 .*or --psk-file FILE .*--no-ipsec connects without IPsec \(weak, like PPTP\)$/)
  assert.match(L2TP_NEEDS_IPSEC_AUTH, /gatehouse ca issue/)
  await usage(['pptp://198.18.0.1', '--user', 'alice', '--no-ipsec'], /apply to l2tp:\/\/ only/)
  await usage(['sstp://198.18.0.1', '--user', 'alice', '--psk-file', '/nonexistent'], /apply to l2tp:\/\/ only/)
  await usage(['l2tp://198.18.0.1', '--user', 'alice', '--no-ipsec', '--insecure'], /--insecure applies to sstp:\/\/ only/)
  await usage(['l2tp://198.18.0.1', '--user', 'alice', '--no-ipsec', '--psk-file', '/x'], /--no-ipsec and --psk-file exclude each other/)
  await usage(['l2tp://198.18.0.1', '--user', 'alice', '--psk-file', '/x', '--ca', '/y'], /--ca with l2tp:\/\/ names the CA .* goes with --cert/)
  await usage(['l2tp://198.18.0.1', '--user', 'alice', '--psk-file', '/nonexistent/psk'], /cannot read --psk-file \/nonexistent\/psk: ENOENT/)
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

test('`gatehouse firewall` with l2tp names IKE and ESP, and UDP 1701 only for plain L2TP', async () => {
  const { renderFirewall } = await import('../../src/gateway/firewall.js')
  const t = renderFirewall({ protocols: ['sstp', 'l2tp'], listen: '203.0.113.1', sstpPort: 443, pool: '198.19.0.0/24', tunName: 'gh0' })
  assert.match(t, /udp dport \{ 500, 4500 \} ip daddr 203\.0\.113\.1 accept {3}# L2TP\/IPsec: IKE/)
  assert.match(t, /ip protocol esp ip daddr 203\.0\.113\.1 accept {3}# L2TP\/IPsec: ESP/)
  assert.doesNotMatch(t, /dport 1701/)
  const plain = renderFirewall({ protocols: ['l2tp'], listen: '203.0.113.1', sstpPort: 443, pool: '198.19.0.0/24', tunName: 'gh0', plainL2tp: true })
  assert.match(plain, /-A INPUT -p udp --dport 1701 -d 203\.0\.113\.1 -j ACCEPT {3}# plain L2TP without IPsec/)
})

// End to end, L2TP/IPsec with machine certificates (IKEv1 main mode with RSA signatures, RFC 2409 §5.1):
// `gatehouse ca issue --client --p12` bundles, `connect --cert`, revocation taking effect on a running
// gateway, a bundle from another CA, a certificate client through a NAT, gateway SIGTERM (issue 4, "What must hold").
// 198.18.78.0/24 outer, 198.18.79.0/24 behind the NAT, 198.19.78.0/24 the pool.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NetnsLab, removeLeftoverNamespaces, stopChild } from '../../src/transport/netns.js'
import { BIN, bridgedClientNs, initGateway, liveSessions, pingOk, sessionHistory, until } from '../helpers/e2e-gateway.js'
import { captureIp } from '../helpers/e2e-ipsec.js'
import { addressOf, assertSigtermEndsSession, assertTransferBothWays, exitAndStderr, watchExit, gatewayNs, natBehind, startGateway, type RunningGateway } from '../helpers/e2e-lab.js'

const PASSWORD = 'Correct-Horse-42-battery'
const BUNDLE_PASSWORD = 'Bundle-Pass-7-staple'
const GW = '198.18.78.1'
const POOL = '198.19.78.0/24'
const GW_TUN = '198.19.78.1'

const lab = new NetnsLab(`ghc${process.pid % 10000}_`)
let srv = ''
let dir = ''
let gwDir = ''
let gw: RunningGateway | undefined
let nextClient = 0

const clientNs = (): { ns: string; outer: string } => bridgedClientNs(lab, srv, nextClient++, '198.18.78')

/** `gatehouse ca issue --dir caDir NAME --client --p12 FILE`, the bundle password on stdin; returns FILE. */
function issue(caDir: string, name: string): string {
  const p12 = join(dir, `${name}.p12`)
  const out = execFileSync(process.execPath, [BIN, 'ca', 'issue', '--dir', caDir, name, '--client', '--p12', p12], { input: `${BUNDLE_PASSWORD}\n`, encoding: 'utf8' })
  assert.match(out, new RegExp(`client certificate ${name} issued`))
  return p12
}

/** `connect --cert`: the user password on stdin line 1, the bundle password on line 2. */
function connect(ns: string, p12: string, extra: string[] = []): ChildProcess {
  const c = lab.spawn(ns, process.execPath, [BIN, 'connect', `l2tp://${GW}`, '--cert', p12, '--user', 'alice', '--split', POOL, '--no-dns', ...extra])
  c.stdin!.end(`${PASSWORD}\n${BUNDLE_PASSWORD}\n`)
  return c
}

before(async () => {
  removeLeftoverNamespaces()
  srv = gatewayNs(lab, GW)
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-l2tp-ipsec-cert-'))
  gwDir = join(dir, 'gw')
  // Certificates are the default trust of `init --protocols ...,l2tp` (no --psk).
  initGateway(gwDir, { listen: GW, pool: POOL, protocols: 'sstp,l2tp', keepaliveSeconds: 2, keepaliveFailures: 3 }, [['alice', PASSWORD]])
  gw = await startGateway(lab, srv, gwDir)
  assert.doesNotMatch(gw.log(), /pre-shared key enabled/, 'no PSK warning without a PSK')
})

after(async () => {
  if (gw && gw.server.exitCode === null) await stopChild(gw.server, 8000)
  await lab.cleanup()
  rmSync(dir, { recursive: true, force: true })
})

test('a machine certificate from `ca issue --client --p12`: up, pings both ways, 50 MB each way intact, the session names the certificate', async () => {
  const p12 = issue(gwDir, 'laptop1')
  const { ns, outer } = clientNs()
  const { c, address } = await addressOf(connect(ns, p12), () => gw?.log() ?? '')
  assert.ok(pingOk(lab, ns, GW_TUN), 'client pings the gateway')
  assert.ok(pingOk(lab, srv, address), 'gateway pings the client')
  await assertTransferBothWays(lab, ns, srv, GW_TUN, address, 50 * 1024 * 1024)
  const live = await liveSessions(gwDir)
  assert.equal(live.length, 1)
  assert.equal(live[0]!.protocol, 'l2tp-ipsec')
  assert.ok(live[0]!.peer.startsWith(`${outer} `), `the session names the peer (${live[0]!.peer})`)
  assert.match(live[0]!.peer, /CN=laptop1/, `and its certificate (${live[0]!.peer})`)
  assert.equal(await stopChild(c, 5000, 'SIGINT'), 0)
  const rec = await until('the record', () => sessionHistory(gwDir).find((r) => r.assignedAddress === address && r.end), 5000)
  assert.equal(rec.protocol, 'l2tp-ipsec')
  assert.match(rec.peer, /CN=laptop1/)
})

test('after `ca revoke`, the same bundle is refused with a clear message; the gateway log says why', async () => {
  const out = execFileSync(process.execPath, [BIN, 'ca', 'revoke', '--dir', gwDir, 'laptop1', '--reason', 'keyCompromise'], { encoding: 'utf8' })
  const serial = /certificate laptop1 \(serial (\w+)\) revoked/.exec(out)?.[1]
  assert.ok(serial, out)
  // The running gateway re-reads issued.json at most once a second.
  await new Promise((r) => setTimeout(r, 1100))
  const { ns } = clientNs()
  const t0 = Date.now()
  const { code, stderr } = await exitAndStderr(connect(ns, join(dir, 'laptop1.p12')))
  const last = stderr.trim().split('\n').pop() ?? ''
  assert.equal(code, 1, stderr)
  // The gateway answers a refused certificate with a protected AUTHENTICATION-FAILED notify (RFC 2408 §3.14.1)
  // and no more detail: the client names the likely causes.
  assert.match(last, /IPsec authentication failed with 198\.18\.78\.1: the peer refused: AuthenticationFailed\. Check that the certificate bundle was issued by this gateway's CA and is not revoked/, `the client is told (${last})`)
  assert.ok(Date.now() - t0 < 25000, 'in bounded time')
  assert.match(gw!.log(), new RegExp(`warn  gatehouse/ipsec: IKE SA failed peer=198\\.18\\.78\\.\\d+:\\d+ reason="main mode 5: peer certificate revoked: serial ${serial} is revoked"`), 'the gateway log says the certificate is revoked, by serial')
  assert.equal((await liveSessions(gwDir)).length, 0)
})

test('a bundle from another CA is refused by the gateway; its log says why', async () => {
  // Another gateway's CA (another `init`), its own client bundle; --ca names our gateway's CA, so the
  // client trusts the gateway and the refusal can only come from the gateway's side.
  const otherDir = join(dir, 'other')
  execFileSync(process.execPath, [BIN, 'init', '--dir', otherDir, '--listen', GW, '--pool', '198.19.79.0/24', '--protocols', 'sstp,l2tp'], { stdio: 'ignore' })
  const p12 = issue(otherDir, 'stranger')
  const { ns } = clientNs()
  const { code, stderr } = await exitAndStderr(connect(ns, p12, ['--ca', join(gwDir, 'ca.pem')]))
  const last = stderr.trim().split('\n').pop() ?? ''
  assert.equal(code, 1, stderr)
  assert.match(last, /IPsec authentication failed/, `the client is told (${last})`)
  assert.match(last, /the peer refused: AuthenticationFailed/, `the client is told (${last})`)
  assert.match(gw!.log(), /warn  gatehouse\/ipsec: IKE SA failed peer=198\.18\.78\.\d+:\d+ reason="main mode 5: peer certificate untrusted: CN=stranger, O=Gatehouse is not signed by a trusted CA"/, 'the gateway log names the refused certificate and why')
  assert.equal((await liveSessions(gwDir)).length, 0)
})

test('a certificate client through a NAT: main mode floats to UDP 4500 with the large CERT messages, then pings', async () => {
  const [ns] = natBehind(lab, srv, { outer: '198.18.78.250', inner: '198.18.79', outerNet: '198.18.78.0/24', clients: 1 })
  const p12 = issue(gwDir, 'laptop2')
  const c = connect(ns!, p12)
  let err = ''
  c.stderr!.on('data', (d: Buffer) => { err += d.toString() })
  const { address } = await addressOf(c, () => gw?.log() ?? '')
  assert.match(err, /UDP-encapsulated \(NAT-T\)/)
  assert.ok(pingOk(lab, ns!, GW_TUN), 'client behind the NAT pings the gateway')
  assert.ok(pingOk(lab, srv, address), 'and is reached')
  assert.match((await liveSessions(gwDir))[0]!.peer, /^198\.18\.78\.250:\d+ .*NAT-T.*CN=laptop2/)
  assert.equal(await stopChild(c, 5000, 'SIGINT'), 0)
})

test('gateway SIGTERM exits 0, writes the record of the live session, and the client is told (IPsec DELETE, L2TP StopCCN)', async () => {
  assert.ok(gw)
  const { ns, outer } = clientNs()
  const live = await addressOf(connect(ns, issue(gwDir, 'laptop3')), () => gw?.log() ?? '')
  const watch = watchExit(live.c)
  // The IKE SA ends with a DELETE (RFC 2408 §3.15) in an Informational exchange (type 5, §4.8) on UDP 500:
  // the gateway's, or the client's when the L2TP StopCCN (sent first) made it close and delete first. DPD's
  // R-U-THERE is the only other Informational, and none is due: its interval is 30 s.
  const informational = 'b.length > 36 && b[8 + 18] === 5 && ((b[0] << 8) | b[1]) !== 4500'
  const fromGateway = await captureIp(lab, ns, 17, GW, informational, 5000)
  const fromClient = await captureIp(lab, srv, 17, outer, informational, 5000)
  await assertSigtermEndsSession(gw, gwDir, live, watch)
  const [byGateway, byClient] = await Promise.all([fromGateway(), fromClient()])
  assert.ok(byGateway ?? byClient, 'an ISAKMP Informational (the DELETE) went between gateway and client')
})

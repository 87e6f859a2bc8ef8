// End to end, L2TP/IPsec with a pre-shared key (RFC 3193: L2TP over UDP 1701 in a transport-mode ESP SA
// negotiated by IKEv1 main mode, RFC 2409; NAT-T per RFC 3947/3948) in network namespaces with real TUN
// devices: `gatehouse connect l2tp:// --psk-file` against `gatehouse serve` (issue 4, "What must hold"): bulk
// transfer, hostile input, a killed client. 198.18.74.0/24 outer (bridge in the gateway namespace), 198.19.74.0/24 pool.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { NetnsLab, removeLeftoverNamespaces, stopChild } from '../../src/transport/netns.js'
import { BIN, bridgedClientNs, gatewayStatus, initGateway, liveSessions, pingOk, sessionHistory, until } from '../helpers/e2e-gateway.js'
import { captureIp, floodMainMode1, sendRawIp, sendUdp } from '../helpers/e2e-ipsec.js'
import { addressOf, assertAllPing, assertTransferBothWays, droppedRecord, gatewayNs, natBehind, startGateway, transfer, type RunningGateway } from '../helpers/e2e-lab.js'

const PASSWORD = 'Correct-Horse-42-battery'
const GW = '198.18.74.1'
const POOL = '198.19.74.0/24'
const GW_TUN = '198.19.74.1'
const KEEPALIVE_S = 2
const KEEPALIVE_FAILURES = 3

const lab = new NetnsLab(`ghi${process.pid % 10000}_`)
let srv = ''
let dir = ''
let gwDir = ''
let pskFile = ''
let gw: RunningGateway | undefined
let nextClient = 0
/** The client the hostile-input test leaves up for the killed-client test. */
let aliveClient: { c: ChildProcess; address: string } | undefined

const clientNs = (): { ns: string; outer: string } => bridgedClientNs(lab, srv, nextClient++, '198.18.74')

function connect(ns: string, psk = pskFile, password = PASSWORD): ChildProcess {
  const c = lab.spawn(ns, process.execPath, [BIN, 'connect', `l2tp://${GW}`, '--psk-file', psk, '--user', 'alice', '--split', POOL, '--no-dns'])
  c.stdin!.end(`${password}\n`)
  return c
}

const connected = (ns: string): Promise<{ c: ChildProcess; address: string }> => addressOf(connect(ns), () => gw?.log() ?? '')

const delta = (a: Record<string, number>, b: Record<string, number>, k: string): number => (b[k] ?? 0) - (a[k] ?? 0)
const ikeCounters = (c: Record<string, number>): string => JSON.stringify(Object.fromEntries(Object.entries(c).filter(([k]) => k.startsWith('ipsec.'))))
const counters = async (): Promise<Record<string, number>> => (await gatewayStatus(gwDir)).counters

before(async () => {
  removeLeftoverNamespaces()
  srv = gatewayNs(lab, GW)
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-l2tp-ipsec-'))
  gwDir = join(dir, 'gw')
  pskFile = join(dir, 'psk.txt')
  writeFileSync(pskFile, 'e2e-psk-Lz0rK3v7Qw9PmX2sTn5b\n', { mode: 0o600 })
  initGateway(gwDir, { listen: GW, pool: POOL, protocols: 'sstp,l2tp', keepaliveSeconds: KEEPALIVE_S, keepaliveFailures: KEEPALIVE_FAILURES, extra: ['--psk-file', pskFile] }, [['alice', PASSWORD]])
  gw = await startGateway(lab, srv, gwDir)
  assert.match(gw.log(), /every L2TP\/IPsec client holds the same key/, 'the gateway warns at start that the PSK is shared')
})

after(async () => {
  if (gw && gw.server.exitCode === null) await stopChild(gw.server, 8000)
  await lab.cleanup()
  rmSync(dir, { recursive: true, force: true })
})

test('PSK: a client gets an address, pings both ways, moves 50 MB each way intact; record l2tp-ipsec naming the peer; status shows IKE and ESP counters', async () => {
  const { ns, outer } = clientNs()
  const { c, address } = await connected(ns)
  assert.match(address, /^198\.19\.74\.\d+$/)
  assert.ok(pingOk(lab, ns, GW_TUN), 'client pings the gateway tunnel address')
  assert.ok(pingOk(lab, srv, address), 'gateway pings the client')

  const live = await liveSessions(gwDir)
  assert.equal(live.length, 1)
  assert.equal(live[0]!.protocol, 'l2tp-ipsec')
  assert.match(live[0]!.peer, new RegExp(`^${outer.replace(/\./g, '\\.')}\\b.*IPsec`), `the session names the peer and its IPsec (${live[0]!.peer})`)

  const size = 50 * 1024 * 1024
  await assertTransferBothWays(lab, ns, srv, GW_TUN, address, size)

  // What an operator reads: `gatehouse status --json`, IKE and ESP counters included.
  const st = (JSON.parse(execFileSync(process.execPath, [BIN, 'status', '--dir', gwDir, '--json'], { encoding: 'utf8' })) as { counters: Record<string, number> }).counters
  const ipsec = JSON.stringify(Object.fromEntries(Object.entries(st).filter(([k]) => k.startsWith('ipsec.'))))
  assert.ok((st['ipsec.ike.udp.rx-datagrams'] ?? 0) >= 5, `IKE datagrams counted (main mode 3 + quick mode 2): ${ipsec}`)
  assert.ok((st['ipsec.ike.sas'] ?? 0) >= 1, `live IKE SAs shown: ${ipsec}`)
  assert.ok((st['ipsec.esp.sa.rx:packets'] ?? 0) > size / 1500 && (st['ipsec.esp.sa.tx:packets'] ?? 0) > size / 1500, `ESP packets counted both ways: ${ipsec}`)
  assert.ok((st['l2tp.ipsec.rx'] ?? 0) > 0, 'L2TP datagrams out of the SA counted')

  assert.equal(await stopChild(c, 5000, 'SIGINT'), 0, 'client exits 0 on SIGINT')
  const rec = await until('the session record', () => sessionHistory(gwDir).find((r) => r.assignedAddress === address && r.end), 5000)
  assert.equal(rec.protocol, 'l2tp-ipsec')
  assert.ok(rec.peer.startsWith(outer), `record names the peer (${rec.peer})`)
  assert.ok((rec.bytesIn ?? 0) > size && (rec.bytesOut ?? 0) > size, `record counts both directions (${rec.bytesIn} in, ${rec.bytesOut} out)`)
  // The client deleted its SAs on the way out (RFC 2408 §3.15): none is left at the gateway.
  await until('the client\'s IKE and ESP SAs to be deleted', async () => { const c = await counters(); return c['ipsec.ike.sas'] === 0 && c['ipsec.esp.sa-pairs'] === 0 }, 5000)
})

/** An ISAKMP header (RFC 2408 §3.1) of main mode 1 claiming `length` octets, followed by `body`. */
function isakmpHeader(length: number, body = ''): string {
  return `${randomBytes(8).toString('hex')}0000000000000000` + '01' + '10' + '02' + '00' + '00000000' + length.toString(16).padStart(8, '0') + body
}

/** A plain SCCRQ (RFC 2661 §6.1): Message Type, Protocol Version, Host Name, Framing Capabilities, Assigned Tunnel ID. */
function sccrq(): string {
  const avp = (type: number, value: string): string => (0x8000 | (6 + value.length / 2)).toString(16).padStart(4, '0') + '0000' + type.toString(16).padStart(4, '0') + value
  const avps = avp(0, '0001') + avp(2, '0100') + avp(7, Buffer.from('probe').toString('hex')) + avp(3, '00000003') + avp(9, '1234')
  return 'c802' + (12 + avps.length / 2).toString(16).padStart(4, '0') + '0000' + '0000' + '0000' + '0000' + avps
}

test('hostile input is counted by reason and never disturbs a live session', async () => {
  const { ns, outer } = clientNs()
  const live = await connected(ns)
  const session = (await liveSessions(gwDir))[0]!
  const before = await counters()
  const attacker = clientNs().ns

  // ISAKMP garbage and truncation on UDP 500 (RFC 2408 §3.1: the header's Length covers the message).
  await sendUdp(lab, attacker, GW, 500, ['00112233', randomBytes(64).toString('hex'), isakmpHeader(400, '0000000c00000001'), isakmpHeader(28).slice(0, 40)])
  // The same behind the Non-ESP Marker on UDP 4500 (RFC 3948 §2.2).
  await sendUdp(lab, attacker, GW, 4500, [`00000000${isakmpHeader(400, '00000008')}`, '00000000aabbcc'])
  // ESP with an SPI nobody owns, raw (IP protocol 50) and in UDP 4500 (RFC 3948 §2.1), and a too-short one.
  const unknownSpi = `0badf00d00000001${randomBytes(48).toString('hex')}`
  sendRawIp(lab, attacker, 50, GW, [unknownSpi, '0badf0'])
  await sendUdp(lab, attacker, GW, 4500, [unknownSpi])
  // Plain L2TP to 1701: RFC 3193 §4 — only inside IPsec; the gateway must not answer it.
  const answers = await sendUdp(lab, attacker, GW, 1701, [sccrq()], { listenMs: 1000 })
  assert.equal(answers, 0, 'no answer to plain L2TP')
  // A replay of the live client's own ESP (RFC 4303 §3.4.3): a copy taken on the way in, sent again from its address.
  const capture = await captureIp(lab, srv, 50, outer, 'b.length > 16')
  assert.ok(pingOk(lab, ns, GW_TUN))
  const esp = await capture()
  assert.ok(esp, 'an ESP packet of the live client was seen')
  sendRawIp(lab, ns, 50, GW, [esp, esp])
  // The same SPI with a fresh sequence number and one bit flipped: the ICV check fails (RFC 4303 §3.4.4).
  const forged = Buffer.from(esp, 'hex')
  forged.writeUInt32BE(forged.readUInt32BE(4) + 1000, 4)
  forged[forged.length - 20]! ^= 0x01
  sendRawIp(lab, ns, 50, GW, [forged.toString('hex')])
  // Half-open IKE SAs from one source are bounded (issue 4): 30 main mode 1 with fresh cookies, 8 kept
  // (IkeV1Endpoint's halfOpenPerAddress default; the gateway does not override it).
  const flooder = clientNs()
  const answeredMm1 = await floodMainMode1(lab, flooder.ns, flooder.outer, GW, 30)

  await until('the counters to settle', async () => delta(before, await counters(), 'ipsec.ike.drop:half-open-limit') >= 22, 3000)
  const after = await counters()
  const seen = ikeCounters(after)
  assert.equal(answeredMm1, 8, `the gateway answers 8 main mode 1s from one address (${seen})`)
  assert.equal(delta(before, after, 'ipsec.ike.drop:half-open-limit'), 22, `the other 22 are counted (${seen})`)
  assert.ok((after['ipsec.ike.sas'] ?? 0) <= 8 + 1, `IKE SAs held: the live one and 8 half-open (${seen})`)
  assert.equal(delta(before, after, 'ipsec.ike.drop:short'), 3, `ISAKMP shorter than its header counted, on 500 and behind the marker on 4500 (${seen})`)
  const headerDrops = Object.keys(after).filter((k) => /^ipsec\.ike\.drop:(header|decode|payload)/.test(k)).reduce((a, k) => a + delta(before, after, k), 0)
  assert.ok(headerDrops >= 3, `malformed ISAKMP counted by field on 500 and 4500 (${seen})`)
  assert.ok(delta(before, after, 'ipsec.esp.demux.drop:bad-spi') >= 2, `unknown SPIs counted, raw and UDP (${seen})`)
  assert.ok(delta(before, after, 'ipsec.esp.demux.drop:too-short') >= 1, `a too-short ESP packet counted (${seen})`)
  assert.equal(delta(before, after, 'ipsec.esp.sa.drop:replay:duplicate'), 2, `the replayed packet is dropped as a duplicate, twice (${seen})`)
  assert.equal(delta(before, after, 'ipsec.esp.sa.drop:icv'), 1, `the forged one fails its ICV (${seen})`)
  assert.equal(delta(before, after, 'l2tp.listener.rx'), 0, 'plain L2TP reached no listener')

  // The live session never noticed.
  const now = await liveSessions(gwDir)
  assert.equal(now.length, 1)
  assert.equal(now[0]!.id, session.id)
  assert.ok(pingOk(lab, ns, GW_TUN), 'the live client still pings')
  assert.ok(pingOk(lab, srv, live.address), 'and is still reached')
  assert.equal(gw!.server.exitCode, null, 'the gateway runs')
  aliveClient = live
})

test('a killed client is cleaned up by the keepalive, with its record', async () => {
  assert.ok(aliveClient, 'the client of the previous test is up')
  const { c, address } = aliveClient
  // SIGKILL: nothing tells the gateway; the PPP echo (2 s x 3), the L2TP HELLO or IPsec dead peer detection
  // (RFC 3706, on the same keepalive settings: 2 s, gone after 8 s) must notice, whichever is first.
  const t0 = Date.now()
  c.kill('SIGKILL')
  const { rec, goneAt } = await droppedRecord(gwDir, address, 'the killed client to be dropped', (KEEPALIVE_S * (KEEPALIVE_FAILURES + 1) + 6) * 1000)
  assert.match(rec.reason ?? '', /echo-timeout|control-closed|ipsec-down/, `reason names the keepalive (${rec.reason}, after ${goneAt - t0} ms)`)
  assert.equal(rec.protocol, 'l2tp-ipsec')
})

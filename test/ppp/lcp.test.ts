// LCP option handling (RFC 1661 §6, RFC 1570/1990/2125 options rejected), auth method negotiation,
// Magic-Number loop-back (§6.4) and Echo (§5.8). Packets are hand-written hex.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Fsm } from '../../src/ppp/fsm/fsm.js'
import { LcpStrategy, type LcpConfig } from '../../src/ppp/lcp/lcp.js'
import { fromHex, toHex } from '../../src/lib/bytes.js'
import { fixedRng } from '../helpers/clock.js'
import type { PppAuthMethod } from '../../src/ppp/auth/types.js'

function lcp(cfg: Partial<LcpConfig> & { role: 'server' | 'client' }): { fsm: Fsm; s: LcpStrategy; out: () => string[]; events: string[] } {
  const events: string[] = []
  const s = new LcpStrategy({ rng: fixedRng(1), mru: 1400, authMethods: [], acceptAuthMethods: [], ...cfg }, {
    up: () => events.push('up'), down: () => events.push('down'), started: () => {}, finished: () => events.push('finished'),
    protocolRejected: (_t, p) => events.push(`prej:${p.toString(16)}`), echoReply: () => events.push('echo-reply'),
  })
  const fsm = new Fsm(s)
  const out = (): string[] => { const r: string[] = []; for (let p = fsm.pollPacket(); p; p = fsm.pollPacket()) r.push(toHex(p)); return r }
  return { fsm, s, out, events }
}
const magicHex = (s: LcpStrategy): string => s.magic.toString(16).padStart(8, '0')

// A Configure-Request as a Windows RRAS server sends it (options 1,3,5,7,8,13,17,19,23).
const WINDOWS_OPTS =
  '01040578' + // MRU 1400
  '0305c22381' + // Authentication-Protocol CHAP / MS-CHAPv2
  '050611223344' + // Magic-Number
  '0702' + '0802' + // PFC, ACFC
  '0d0306' + // Callback, operation 6 (RFC 1570 §2.3)
  '1104064e' + // MRRU 1614 (RFC 1990 §5.1.1)
  '1313' + '01' + '000102030405060708090a0b0c0d0e0f' + // Endpoint Discriminator class 1 (RFC 1990 §5.1.3)
  '17040001' // Link Discriminator (RFC 2125 §5.2)
const REJECTED = '0d0306' + '1104064e' + '1313' + '01' + '000102030405060708090a0b0c0d0e0f' + '17040001'

test('Windows-like Configure-Request: exactly options 13, 17, 19, 23 are rejected', () => {
  assert.equal(WINDOWS_OPTS.length / 2, 49)
  const { fsm, out } = lcp({ role: 'client', acceptAuthMethods: ['mschapv2'] })
  fsm.up(0); fsm.open(0); out()
  fsm.handlePacket(1, fromHex('01070035' + WINDOWS_OPTS))
  assert.deepEqual(out(), ['04070022' + REJECTED])
})

test('the same request without the rejected options is Acked; peer values recorded', () => {
  const { fsm, s, out } = lcp({ role: 'client', acceptAuthMethods: ['mschapv2'] })
  fsm.up(0); fsm.open(0); out()
  const opts = '01040578' + '0305c22381' + '050611223344' + '0702' + '0802'
  fsm.handlePacket(1, fromHex('01080017' + opts))
  assert.deepEqual(out(), ['02080017' + opts])
  assert.equal(s.authToPeer, 'mschapv2')
  assert.equal(s.peerMru, 1400)
  assert.equal(s.peerMagic, 0x11223344)
  assert.equal(s.txPfc, true)
  assert.equal(s.txAcfc, true)
})

test('our request: MRU, Authentication-Protocol (server), Magic-Number', () => {
  const sv = lcp({ role: 'server', authMethods: ['mschapv2'] })
  sv.fsm.up(0); sv.fsm.open(0)
  assert.deepEqual(sv.out(), ['01010013' + '01040578' + '0305c22381' + '0506' + magicHex(sv.s)])
  const cl = lcp({ role: 'client', mru: 1500 })
  cl.fsm.up(0); cl.fsm.open(0)
  assert.deepEqual(cl.out(), ['0101000a' + '0506' + magicHex(cl.s)])
})

test('server walks a peer Nak down its preference list', () => {
  const { fsm, s, out } = lcp({ role: 'server', authMethods: ['eap', 'mschapv2', 'chap-md5', 'pap'], mru: 1500 })
  fsm.up(0); fsm.open(0)
  assert.match(out()[0]!, /0304c227/)
  // Peer suggests chap-md5: further down the list, so we jump to it.
  fsm.handlePacket(1, fromHex('03010009' + '0305c22305'))
  assert.match(out()[0]!, /^0102000f0305c22305/)
  // Peer suggests MS-CHAPv1 (0x80, not ours): take the next one, PAP.
  fsm.handlePacket(1, fromHex('03020009' + '0305c22380'))
  assert.match(out()[0]!, /^0103000e0304c023/)
  assert.equal(s.failure, undefined)
  // Nothing left: negotiation cannot succeed.
  fsm.handlePacket(1, fromHex('03030009' + '0305c22380'))
  assert.equal(s.failure, 'auth-method-refused')
  // Acked method is recorded as ours to verify.
  const req = out()[0]!
  fsm.handlePacket(1, fromHex('02' + req.slice(2)))
  assert.equal(s.authByUs, 'pap' as PppAuthMethod)
})

test('server Rejects a peer asking it to authenticate; client Naks an unaccepted method with its preferred one', () => {
  const sv = lcp({ role: 'server', authMethods: ['mschapv2'] })
  sv.fsm.up(0); sv.fsm.open(0); sv.out()
  sv.fsm.handlePacket(1, fromHex('01050008' + '0304c023'))
  assert.deepEqual(sv.out(), ['04050008' + '0304c023'])
  const cl = lcp({ role: 'client', acceptAuthMethods: ['mschapv2', 'eap'] })
  cl.fsm.up(0); cl.fsm.open(0); cl.out()
  cl.fsm.handlePacket(1, fromHex('01050008' + '0304c023'))
  assert.deepEqual(cl.out(), ['03050009' + '0305c22381'])
  // EAP is accepted but liked less than MS-CHAPv2: Naked once toward it (§6.2, as Windows does; SoftEther 5.01
  // leaves EAP for MS-CHAPv2 only this way), Acked when the server asks for it again.
  cl.fsm.handlePacket(1, fromHex('01060008' + '0304c227'))
  assert.deepEqual(cl.out(), ['03060009' + '0305c22381'])
  cl.fsm.handlePacket(1, fromHex('01070008' + '0304c227'))
  assert.deepEqual(cl.out(), ['02070008' + '0304c227'])
  assert.equal(cl.s.authToPeer, 'eap')
})

test('Magic-Number: our own value comes back -> Nak with a different one and pick a new one (§6.4); zero is Naked', () => {
  const { fsm, s, out } = lcp({ role: 'client' })
  fsm.up(0); fsm.open(0); out()
  const mine = s.magic
  fsm.handlePacket(1, fromHex('0109000a' + '0506' + magicHex(s)))
  const r = out()
  assert.equal(r.length, 1)
  assert.match(r[0]!, /^0309000a0506/)
  assert.notEqual(r[0]!.slice(12), mine.toString(16).padStart(8, '0'))
  assert.notEqual(s.magic, mine)
  fsm.handlePacket(1, fromHex('010a000a' + '050600000000'))
  assert.match(out()[0]!, /^030a000a0506/)
})

test('repeated loop-back ends negotiation with looped-back', () => {
  const { fsm, s, out } = lcp({ role: 'client', maxLoopback: 3 })
  fsm.up(0); fsm.open(0); out()
  for (let i = 0; i < 3; i++) { fsm.handlePacket(1, fromHex('0109000a' + '0506' + magicHex(s))); out() }
  assert.equal(s.failure, 'looped-back')
})

test('unknown options, bad lengths and ACCM are rejected', () => {
  const { fsm, out } = lcp({ role: 'client' })
  fsm.up(0); fsm.open(0); out()
  fsm.handlePacket(1, fromHex('01040012' + '0206000a0000' + '010305' + '070300' + '0402'))
  assert.deepEqual(out(), ['04040012' + '0206000a0000' + '010305' + '070300' + '0402'])
})

function opened(): ReturnType<typeof lcp> {
  const x = lcp({ role: 'client', mru: 1500 })
  x.fsm.up(0); x.fsm.open(0)
  const req = x.out()[0]!
  x.fsm.handlePacket(1, fromHex('02' + req.slice(2)))
  x.fsm.handlePacket(1, fromHex('0133000a' + '0506cafebabe'))
  x.out()
  assert.equal(x.fsm.state, 'Opened')
  return x
}

test('Echo-Request in Opened -> Echo-Reply with our magic, same id and data (§5.8)', () => {
  const x = opened()
  x.fsm.handlePacket(2, fromHex('0977000a' + 'cafebabe' + 'abcd'))
  assert.deepEqual(x.out(), ['0a77000a' + magicHex(x.s) + 'abcd'])
  // Our own magic: a loop; no answer.
  x.fsm.handlePacket(2, fromHex('09780008' + magicHex(x.s)))
  assert.deepEqual(x.out(), [])
  x.fsm.handlePacket(2, fromHex('0a790008' + 'cafebabe'))
  assert.ok(x.events.includes('echo-reply'))
  x.fsm.handlePacket(2, fromHex('0b7a000a' + 'cafebabe0000')) // Discard-Request: silently
  assert.deepEqual(x.out(), [])
  assert.equal(x.fsm.state, 'Opened')
})

test('Echo-Request before Opened is silently discarded', () => {
  const x = lcp({ role: 'client' })
  x.fsm.up(0); x.fsm.open(0); x.out()
  x.fsm.handlePacket(1, fromHex('09010008cafebabe'))
  assert.deepEqual(x.out(), [])
})

test('Protocol-Reject: of IPCP is reported (RXJ+), of LCP is catastrophic (RXJ-)', () => {
  const x = opened()
  x.fsm.handlePacket(3, fromHex('08050008' + '8021' + '0101'))
  assert.ok(x.events.includes('prej:8021'))
  assert.equal(x.fsm.state, 'Opened')
  x.fsm.handlePacket(3, fromHex('08060008' + 'c021' + '0101'))
  assert.equal(x.fsm.state, 'Stopping')
  assert.match(x.out()[0]!, /^05/) // Terminate-Request
})

test('Code-Reject of Echo is not fatal; of Configure-Request it is', () => {
  const x = opened()
  x.fsm.handlePacket(3, fromHex('07050008' + '09010004'))
  assert.equal(x.fsm.state, 'Opened')
  x.fsm.handlePacket(3, fromHex('07060008' + '01010004'))
  assert.equal(x.fsm.state, 'Stopping')
})

test('Identification and Time-Remaining (RFC 1570 §2) are accepted silently; other unknown codes get Code-Reject', () => {
  const x = opened()
  x.fsm.handlePacket(3, fromHex('0c200012' + 'cafebabe' + '4d5352415356352e3230')) // "MSRASV5.20"
  x.fsm.handlePacket(3, fromHex('0d21000c' + 'cafebabe' + '00000e10'))
  assert.deepEqual(x.out(), [])
  assert.equal(x.fsm.counters.get('ignored.code-12'), 1)
  x.fsm.handlePacket(3, fromHex('0e220004'))
  assert.match(x.out()[0]!, /^07..0008/)
  assert.equal(x.fsm.state, 'Opened')
})

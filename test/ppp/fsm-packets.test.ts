// RFC 1661 §5 packet handling around the automaton: Identifier matching, Ack/Reject content checks,
// Max-Failure, restart timer, Code-Reject, malformed packets. Golden bytes are written by hand.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Fsm, type ConfigureVerdict, type FsmStrategy } from '../../src/ppp/fsm/fsm.js'
import { decodeControlPacket, decodeOptions, encodeOptions } from '../../src/ppp/fsm/packet.js'
import { DecodeError } from '../../src/lib/errors.js'
import { fromHex, toHex } from '../../src/lib/bytes.js'

function make(verdict: () => ConfigureVerdict = () => ({ kind: 'ack' })): { fsm: Fsm; log: string[]; out: () => string[] } {
  const log: string[] = []
  const s: FsmStrategy = {
    name: 'T',
    buildRequest: () => [{ type: 1, data: fromHex('0578') }, { type: 5, data: fromHex('01020304') }],
    processRequest: verdict,
    processAck: () => { log.push('ack') },
    processNak: () => { log.push('nak'); return true },
    processReject: () => { log.push('rej'); return true },
    up: () => log.push('tlu'), down: () => log.push('tld'), started: () => log.push('tls'), finished: () => log.push('tlf'),
  }
  const fsm = new Fsm(s, { restartMs: 1000, maxConfigure: 3, maxFailure: 2 })
  const out = (): string[] => { const r: string[] = []; for (let p = fsm.pollPacket(); p; p = fsm.pollPacket()) r.push(toHex(p)); return r }
  return { fsm, log, out }
}

test('Configure-Request golden bytes; Ack must match Identifier and options exactly (§5.2)', () => {
  const { fsm, log, out } = make()
  fsm.up(0); fsm.open(0)
  assert.deepEqual(out(), ['0101000e' + '01040578' + '050601020304'])
  fsm.handlePacket(1, fromHex('0209000e01040578050601020304')) // wrong id
  fsm.handlePacket(1, fromHex('0201000e01040578050601020305')) // wrong content
  fsm.handlePacket(1, fromHex('0201000801040578')) // fewer options
  assert.equal(fsm.state, 'Req-Sent')
  assert.equal(fsm.counters.get('drop.id-mismatch'), 1)
  assert.equal(fsm.counters.get('drop.ack-content-mismatch'), 2)
  fsm.handlePacket(1, fromHex('0201000e01040578050601020304'))
  assert.equal(fsm.state, 'Ack-Rcvd')
  assert.deepEqual(log, ['tls', 'ack'].slice(1))
  // A duplicate Ack is stale now.
  fsm.handlePacket(1, fromHex('0201000e01040578050601020304'))
  assert.equal(fsm.state, 'Ack-Rcvd')
})

test('Configure-Reject must be an ordered subset of our request (§5.4)', () => {
  const { fsm, log, out } = make()
  fsm.up(0); fsm.open(0); out()
  fsm.handlePacket(1, fromHex('04010008' + '01040579')) // value differs
  fsm.handlePacket(1, fromHex('0401000e' + '050601020304' + '01040578')) // reordered
  assert.equal(fsm.counters.get('drop.reject-content-mismatch'), 2)
  fsm.handlePacket(1, fromHex('0401000a' + '050601020304'))
  assert.deepEqual(log, ['rej'])
  assert.equal(fsm.state, 'Req-Sent')
  // RCN in Req-Sent: irc, scr with a new Identifier
  assert.equal(decodeControlPacket(fromHex(out()[0]!)).identifier, 2)
})

test('Max-Failure: after maxFailure Naks the options are Configure-Rejected (§4.6)', () => {
  const { fsm, out } = make(() => ({ kind: 'nak', options: [{ type: 1, data: fromHex('05dc') }] }))
  fsm.up(0); fsm.open(0); out()
  const req = '0107000c' + '01040578' + '03040000'
  fsm.handlePacket(1, fromHex(req)); fsm.handlePacket(1, fromHex(req))
  assert.deepEqual(out(), ['03070008010405dc', '03070008010405dc'])
  fsm.handlePacket(1, fromHex(req))
  assert.deepEqual(out(), ['0407000801040578'])
})

test('restart timer: TO+ retransmits with a fresh Identifier, TO- after Max-Configure gives tlf/Stopped', () => {
  const { fsm, log, out } = make()
  fsm.up(0); fsm.open(0)
  assert.equal(out().length, 1)
  assert.equal(fsm.nextTimeout(), 1000)
  fsm.handleTimeout(999)
  assert.equal(out().length, 0, 'early timeout is harmless')
  fsm.handleTimeout(1000)
  const r = out()
  assert.equal(r.length, 1)
  assert.equal(decodeControlPacket(fromHex(r[0]!)).identifier, 2)
  fsm.handleTimeout(2000)
  assert.equal(out().length, 1)
  assert.equal(fsm.restartCounter, 0)
  fsm.handleTimeout(3000)
  assert.equal(fsm.state, 'Stopped')
  assert.deepEqual(log, ['tlf'])
  assert.equal(fsm.nextTimeout(), undefined)
})

test('Code-Reject of Configure-Request is catastrophic (RXJ-); unknown codes get Code-Reject (§5.6)', () => {
  const a = make()
  a.fsm.up(0); a.fsm.open(0); a.out()
  a.fsm.handlePacket(1, fromHex('0703000801020004'))
  assert.equal(a.fsm.state, 'Stopped')
  const b = make()
  b.fsm.up(0); b.fsm.open(0); b.out()
  b.fsm.handlePacket(1, fromHex('6305000600aaff')) // code 99, Length 6, one padding octet
  assert.deepEqual(b.out(), ['0702000a' + '6305000600aa'])
})

test('malformed packets are dropped and counted, never thrown', () => {
  const { fsm, out } = make()
  fsm.up(0); fsm.open(0); out()
  for (const hex of ['', '01', '010100', '01010003', '01010009aa', '0102000601', '0102000701ff00']) fsm.handlePacket(1, fromHex(hex))
  assert.equal(fsm.state, 'Req-Sent')
  assert.equal(out().length, 0)
  assert.ok(fsm.counters.get('drop.malformed') + fsm.counters.get('drop.malformed-options') === 7)
})

test('option list codec: round trip, Length < 2 and overruns are DecodeErrors', () => {
  const opts = decodeOptions(fromHex('0104057807020802'))
  assert.deepEqual(opts.map((o) => [o.type, toHex(o.data)]), [[1, '0578'], [7, ''], [8, '']])
  assert.equal(toHex(encodeOptions(opts)), '0104057807020802')
  for (const hex of ['01', '0100', '0101', '0105aabb']) assert.throws(() => decodeOptions(fromHex(hex)), DecodeError)
})

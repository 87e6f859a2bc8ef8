// IPCP option handling: RFC 1332 §3 (IP-Address, IP-Compression-Protocol rejected) and RFC 1877
// (DNS 129/131, NBNS 130/132). Packets are hand-written hex.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Fsm } from '../../src/ppp/fsm/fsm.js'
import { IpcpStrategy, type IpcpConfig } from '../../src/ppp/ipcp/ipcp.js'
import { fromHex, toHex } from '../../src/lib/bytes.js'

function ipcp(cfg: IpcpConfig): { fsm: Fsm; s: IpcpStrategy; out: () => string[] } {
  const s = new IpcpStrategy(cfg, { up: () => {}, down: () => {}, started: () => {}, finished: () => {} })
  const fsm = new Fsm(s)
  const out = (): string[] => { const r: string[] = []; for (let p = fsm.pollPacket(); p; p = fsm.pollPacket()) r.push(toHex(p)); return r }
  fsm.up(0); fsm.open(0)
  return { fsm, s, out }
}
const server = (over: Partial<Extract<IpcpConfig, { role: 'server' }>> = {}): ReturnType<typeof ipcp> =>
  ipcp({ role: 'server', localAddress: '198.19.0.1', dns: ['198.19.0.53', '9.9.9.9'], wins: [], peerAddress: () => '198.19.0.10', ...over })

// 198.19.0.1 = c6130001, 198.19.0.10 = c613000a, 198.19.0.53 = c6130035, 9.9.9.9 = 09090909
test('server request carries its local address', () => {
  assert.deepEqual(server().out(), ['0101000a' + '0306c6130001'])
})

test('server Naks 0.0.0.0 with the verdict address and DNS with configured values; Rejects NBNS when none', () => {
  const { fsm, out } = server()
  out()
  // Windows: IP-Address, DNS1, NBNS1, DNS2, NBNS2 all 0.0.0.0
  fsm.handlePacket(1, fromHex('01050022' + '030600000000' + '810600000000' + '820600000000' + '830600000000' + '840600000000'))
  assert.deepEqual(out(), ['04050010' + '820600000000' + '840600000000'])
  fsm.handlePacket(1, fromHex('01060016' + '030600000000' + '810600000000' + '830600000000'))
  assert.deepEqual(out(), ['03060016' + '0306c613000a' + '8106c6130035' + '830609090909'])
  fsm.handlePacket(1, fromHex('01070016' + '0306c613000a' + '8106c6130035' + '830609090909'))
  assert.deepEqual(out(), ['02070016' + '0306c613000a' + '8106c6130035' + '830609090909'])
})

test('server Naks a wrong address, Rejects IP-Compression-Protocol and unknown options', () => {
  const { fsm, out } = server()
  out()
  fsm.handlePacket(1, fromHex('0101000a' + '0306c6130063'))
  assert.deepEqual(out(), ['0301000a' + '0306c613000a'])
  fsm.handlePacket(1, fromHex('01020012' + '0306c613000a' + '0206002d0f01' + '0402'))
  assert.deepEqual(out(), ['0402000c' + '0206002d0f01' + '0402'])
})

test('server hints the address when the peer asks for none', () => {
  const { fsm, out } = server()
  out()
  fsm.handlePacket(1, fromHex('01010004'))
  assert.deepEqual(out(), ['0301000a' + '0306c613000a'])
})

test('server without an address for the peer fails with no-address', () => {
  const { fsm, s, out } = server({ peerAddress: () => undefined })
  out()
  fsm.handlePacket(1, fromHex('0101000a' + '030600000000'))
  assert.equal(s.failure, 'no-address')
})

test('client asks for 0.0.0.0 x5, takes Naks, drops rejected options, Acks the server address', () => {
  const { fsm, s, out } = ipcp({ role: 'client' })
  assert.deepEqual(out(), ['01010022' + '030600000000' + '810600000000' + '830600000000' + '820600000000' + '840600000000'])
  fsm.handlePacket(1, fromHex('04010010' + '820600000000' + '840600000000'))
  assert.deepEqual(out(), ['01020016' + '030600000000' + '810600000000' + '830600000000'])
  fsm.handlePacket(1, fromHex('03020016' + '0306c613000a' + '8106c6130035' + '830609090909'))
  const req = out()
  assert.deepEqual(req, ['01030016' + '0306c613000a' + '8106c6130035' + '830609090909'])
  fsm.handlePacket(1, fromHex('02' + req[0]!.slice(2)))
  fsm.handlePacket(1, fromHex('0109000a' + '0306c6130001'))
  assert.deepEqual(out(), ['0209000a' + '0306c6130001'])
  assert.equal(fsm.state, 'Opened')
  assert.equal(s.localAddress, 0xc613000a)
  assert.equal(s.peerAddress, 0xc6130001)
  assert.deepEqual(s.dns, ['198.19.0.53', '9.9.9.9'])
  assert.deepEqual(s.wins, [])
})

test('client Rejects a server request of 0.0.0.0 and DNS options', () => {
  const { fsm, out } = ipcp({ role: 'client' })
  out()
  fsm.handlePacket(1, fromHex('01010010' + '030600000000' + '8106c6130035'))
  assert.deepEqual(out(), ['04010010' + '030600000000' + '8106c6130035'])
})

// A client PppSession driven by the frames SoftEther VPN Server 5.01.9674 (Debian) sent in a real L2TP/IPsec
// session (test/interop/gatehouse-vs-softether.sh, capture psk.pcap decrypted with the client's key log):
// LCP with EAP asked first (RFC 1661 §6.2: we Nak toward MS-CHAPv2), our Magic-Number rejected, MS-CHAPv2
// (RFC 2759), CCP Protocol-Rejected (§5.7), IPCP with secondary DNS and NBNS rejected (RFC 1332, RFC 1877).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PppSession } from '../../src/ppp/session.js'
import { L2TP_IPSEC_MPPE_POLICY } from '../../src/ppp/ccp/policy.js'
import { generateAuthenticatorResponse, generateNtResponse, ntPasswordHash } from '../../src/auth/mschapv2.js'
import { fromHex, toHex } from '../../src/lib/bytes.js'
import { fixedRng } from '../helpers/clock.js'

const PASSWORD = 'alice-pass-123'
/** SoftEther's CHAP Challenge (capture frame 33): Value-Size 16, challenge, Name "vm". */
const CHALLENGE = '1c2acedad6956d44941bb99c4e11b8cf'

test('SoftEther 5.01 frames: EAP Naked toward MS-CHAPv2, Magic rejected, MS-CHAPv2, no CCP (a stray CCP Protocol-Reject ignored), IPCP DNS2/NBNS rejected -> up with its DHCP address', () => {
  const s = new PppSession({ role: 'client', rng: fixedRng(7), user: 'alice', password: PASSWORD, mru: 1384, mppe: L2TP_IPSEC_MPPE_POLICY }, 0)
  const frames = (): string[] => { const r: string[] = []; for (let f = s.pollFrame(); f; f = s.pollFrame()) r.push(toHex(f)); return r }
  s.open(0)
  const [req1] = frames()
  assert.match(req1!, /^ff03c0210101000e010405680506[0-9a-f]{8}$/)
  const magic = req1!.slice(-8)
  // SoftEther: Configure-Request Authentication-Protocol EAP (c227) -> Nak with MS-CHAPv2 (c223 81), as in frame 26.
  s.handleFrame(1, fromHex('ff03c021' + '010000080304c227'))
  assert.deepEqual(frames(), ['ff03c021' + '030000090305c22381'])
  // Its Echo-Request before LCP is Opened (magic 0, "Aho Baka Manuke") is discarded (§5.8: Opened state only).
  s.handleFrame(2, fromHex('ff03c021' + '090000180000000041686f2042616b61204d616e756b6500'))
  assert.deepEqual(frames(), [])
  // Configure-Reject of our Magic-Number -> the request again without it (§6.4 "MUST NOT be sent").
  s.handleFrame(3, fromHex('ff03c021' + '0401000a0506' + magic))
  assert.deepEqual(frames(), ['ff03c021' + '0102000801040568'])
  // Its fallback request (MS-CHAPv2, SoftEther's PPPProcessLCPResponsePacket on a Nak of EAP) is Acked.
  s.handleFrame(4, fromHex('ff03c021' + '010100090305c22381'))
  assert.deepEqual(frames(), ['ff03c021' + '020100090305c22381'])
  s.handleFrame(5, fromHex('ff03c021' + '0202000801040568'))
  assert.equal(s.phase, 'authenticate')
  s.handleFrame(6, fromHex('ff03c223' + '01020017' + '10' + CHALLENGE + '766d'))
  const [resp] = frames()
  // RFC 2759 §4: Response, same Identifier, Value-Size 49 (16 peer challenge, 8 zero, 24 NT-Response, flags 0), Name.
  assert.match(resp!, /^ff03c2230202003b31[0-9a-f]{32}0{16}[0-9a-f]{48}00616c696365$/)
  const peerChallenge = fromHex(resp!.slice(18, 50)), ntResponse = fromHex(resp!.slice(66, 114))
  assert.equal(toHex(ntResponse), toHex(generateNtResponse(fromHex(CHALLENGE), peerChallenge, 'alice', PASSWORD)))
  const ok = generateAuthenticatorResponse(ntPasswordHash(PASSWORD), ntResponse, peerChallenge, fromHex(CHALLENGE), 'alice')
  const msg = Buffer.from(ok).toString('hex')
  s.handleFrame(7, fromHex('ff03c223' + '0302' + (4 + ok.length).toString(16).padStart(4, '0') + msg))
  // Network phase: IPCP with address, DNS and NBNS (frame 43). The capture's empty CCP Configure-Request (frame 42)
  // is no longer sent: inside IPsec no CCP runs. SoftEther's Protocol-Reject of it (as captured) is still harmless.
  assert.deepEqual(frames(), ['ff038021' + '01010022' + '030600000000' + '810600000000' + '830600000000' + '820600000000' + '840600000000'])
  s.handleFrame(8, fromHex('ff03c021' + '0803000a80fd01010004'))
  assert.deepEqual(frames(), [], 'a Protocol-Reject of CCP we never sent changes nothing')
  s.handleFrame(9, fromHex('ff038021' + '04010016' + '830600000000' + '820600000000' + '840600000000'))
  assert.deepEqual(frames(), ['ff038021' + '01020010' + '030600000000' + '810600000000'])
  s.handleFrame(10, fromHex('ff038021' + '0104000a0306c6133201'))
  assert.deepEqual(frames(), ['ff038021' + '0204000a0306c6133201'])
  s.handleFrame(11, fromHex('ff038021' + '030200100306c613320a8106c6133201'))
  assert.deepEqual(frames(), ['ff038021' + '010300100306c613320a8106c6133201'])
  s.handleFrame(12, fromHex('ff038021' + '020300100306c613320a8106c6133201'))
  const events = []
  for (let e = s.pollEvent(); e; e = s.pollEvent()) events.push(e)
  assert.deepEqual(events.filter((e) => e.type === 'up'), [{ type: 'up', localAddress: '198.19.50.10', peerAddress: '198.19.50.1', dns: ['198.19.50.1'], wins: [] }])
  assert.equal(events.some((e) => e.type === 'down'), false)
})

test('SoftEther 5.01 capture: its MS-CHAPv2 Success S= equals RFC 2759 §8.7 over the exchanged values (frames 33, 34, 41)', () => {
  // Our Response in that capture: peer challenge, 8 zero octets, NT-Response, flags, "alice"; SoftEther answered
  // "S=38CAB2B715C8AF749759081E36066EE5E47599A9". An independent check of our MS-CHAPv2 against a real server.
  const peerChallenge = fromHex('ee55e50f379f0a85f45a8415e60a86c4')
  const ntResponse = fromHex('d79aeb9fb0864a4fd8e8a935938006cff0c2360c0945d641')
  assert.equal(toHex(generateNtResponse(fromHex(CHALLENGE), peerChallenge, 'alice', PASSWORD)), toHex(ntResponse))
  assert.equal(generateAuthenticatorResponse(ntPasswordHash(PASSWORD), ntResponse, peerChallenge, fromHex(CHALLENGE), 'alice'), 'S=38CAB2B715C8AF749759081E36066EE5E47599A9')
})

test('a server that asks for EAP again after our Nak gets it (§6.2: the Nak is a preference, not a refusal)', () => {
  const s = new PppSession({ role: 'client', rng: fixedRng(8), user: 'alice', password: PASSWORD }, 0)
  const frames = (): string[] => { const r: string[] = []; for (let f = s.pollFrame(); f; f = s.pollFrame()) r.push(toHex(f)); return r }
  s.open(0)
  frames()
  s.handleFrame(1, fromHex('ff03c021' + '010000080304c227'))
  assert.deepEqual(frames(), ['ff03c021' + '030000090305c22381'])
  s.handleFrame(2, fromHex('ff03c021' + '010100080304c227'))
  assert.deepEqual(frames(), ['ff03c021' + '020100080304c227'])
})

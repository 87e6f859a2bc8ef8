// RFC 2661 §6.1–§6.14 required AVPs per message, §4.1 unknown mandatory AVPs, §4.4.1 unknown message
// types, §5.3 zero IDs, §4.4.2 Result Code 5 for an unsupported version: validateControlMessage.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeControlBody, encodeControlBody } from '../../src/l2tp/avp/codec.js'
import { MESSAGE_NAMES, MessageType } from '../../src/l2tp/avp/constants.js'
import type { AvpFields, AvpName } from '../../src/l2tp/avp/table.js'
import { REQUIRED_AVPS, validateControlMessage } from '../../src/l2tp/rules.js'
import { fromHex, toHex } from '../../src/lib/bytes.js'

const SAMPLE: Partial<AvpFields> = {
  protocolVersion: { version: 1, revision: 0 }, hostName: 'h', framingCapabilities: 3, assignedTunnelId: 5,
  resultCode: { result: 1 }, assignedSessionId: 9, callSerialNumber: 1, minimumBps: 1, maximumBps: 2, bearerType: 1,
  framingType: 1, calledNumber: '1', txConnectSpeed: 1000, callErrors: { crc: 0, framing: 0, hardwareOverruns: 0, bufferOverruns: 0, timeouts: 0, alignment: 0 },
  accm: { send: 0, receive: 0 },
}
const build = (messageType: number, names: readonly AvpName[]): Uint8Array => {
  const f: Record<string, unknown> = { messageType }
  for (const n of names) f[n] = SAMPLE[n]
  return encodeControlBody(f as unknown as AvpFields)
}

// §6.x: the exact lists, written out again here from the RFC so a slip in either copy shows.
const EXPECTED: Record<string, string> = {
  SCCRQ: 'protocolVersion hostName framingCapabilities assignedTunnelId', SCCRP: 'protocolVersion framingCapabilities hostName assignedTunnelId',
  SCCCN: '', StopCCN: 'assignedTunnelId resultCode', HELLO: '',
  OCRQ: 'assignedSessionId callSerialNumber minimumBps maximumBps bearerType framingType calledNumber', OCRP: 'assignedSessionId',
  OCCN: 'txConnectSpeed framingType', ICRQ: 'assignedSessionId callSerialNumber', ICRP: 'assignedSessionId',
  ICCN: 'txConnectSpeed framingType', CDN: 'resultCode assignedSessionId', WEN: 'callErrors', SLI: 'accm',
}

for (const [name, type] of Object.entries(MessageType)) {
  const required = REQUIRED_AVPS[type]!
  const tunnel = [1, 2, 3, 4, 6].includes(type)
  test(`§6 ${name}: carries exactly the RFC's required AVPs; each missing one is refused`, () => {
    assert.deepEqual([...required].sort(), EXPECTED[name]!.split(' ').filter(Boolean).sort())
    assert.deepEqual(validateControlMessage(decodeControlBody(build(type, required))), { action: 'accept' })
    for (const n of required) {
      const v = validateControlMessage(decodeControlBody(build(type, required.filter((x) => x !== n))))
      assert.equal(v.action, tunnel ? 'clearTunnel' : 'clearSession', n)
      assert.equal((v as { reason?: string }).reason, 'missing-avp')
    }
  })
  test(`§4.1 ${name}: an unknown AVP with M set clears the ${tunnel ? 'tunnel (StopCCN' : 'session (CDN'} 2/8); without M it is ignored`, () => {
    const body = toHex(build(type, required))
    const withM = validateControlMessage(decodeControlBody(fromHex(body + '80080000 7fff 0000')))
    assert.deepEqual(withM.action === 'clearTunnel' || withM.action === 'clearSession' ? [withM.action, withM.result.result, withM.result.error] : withM,
      [tunnel ? 'clearTunnel' : 'clearSession', 2, 8])
    assert.ok(withM.action !== 'accept' && withM.action !== 'ignore' && withM.result.message?.includes(MESSAGE_NAMES[type]!))
    assert.deepEqual(validateControlMessage(decodeControlBody(fromHex(body + '00080000 7fff 0000'))), { action: 'accept' })
  })
}

test('§4.4.1 an unknown Message Type with M set clears the tunnel; without M it is ignored', () => {
  const v = validateControlMessage(decodeControlBody(fromHex('8008 0000 0000 0005')))
  assert.equal(v.action, 'clearTunnel')
  assert.deepEqual(validateControlMessage(decodeControlBody(fromHex('0008 0000 0000 0005'))), { action: 'ignore', reason: 'unknown-message-type' })
})

test('§5.3 Assigned Tunnel ID 0 and Assigned Session ID 0 are refused', () => {
  const sccrq = decodeControlBody(encodeControlBody({ messageType: MessageType.SCCRQ, protocolVersion: { version: 1, revision: 0 }, hostName: 'h', framingCapabilities: 1, assignedTunnelId: 0 }))
  assert.equal(validateControlMessage(sccrq).action, 'clearTunnel')
  const icrq = decodeControlBody(encodeControlBody({ messageType: MessageType.ICRQ, assignedSessionId: 0, callSerialNumber: 1 }))
  const v = validateControlMessage(icrq)
  assert.equal(v.action === 'clearSession' && v.reason, 'zero-session-id')
})

test('§4.4.2 an SCCRQ with Protocol Version other than 1.0 gets StopCCN Result Code 5', () => {
  const m = decodeControlBody(encodeControlBody({ messageType: MessageType.SCCRQ, protocolVersion: { version: 2, revision: 0 }, hostName: 'h', framingCapabilities: 1, assignedTunnelId: 3 }))
  const v = validateControlMessage(m)
  assert.equal(v.action === 'clearTunnel' && v.result.result, 5)
})

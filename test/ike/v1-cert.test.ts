// Pair tests for IKEv1 main mode with signatures (RFC 2409 §5.1) on certificates from src/pki: RSA and
// ECDSA to childSaUp, then each refusal the gateway and client owe (revoked, foreign CA, ID not bound to
// the certificate, a client certificate posing as the gateway, a PSK-only responder).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import fc from 'fast-check'
import { createCa, loadCa } from '../../src/pki/ca.js'
import { issueCert } from '../../src/pki/issue.js'
import type { IssuedCert } from '../../src/pki/issue.js'
import type { Revocation } from '../../src/pki/issued.js'
import type { IkeV1EndpointOptions, IkeV1Event } from '../../src/ike/v1/endpoint.js'
import { decodeMessage } from '../../src/ike/v1/message/message.js'
import { checkPeerCertificate, idMatchesCertificate, subjectDerOf } from '../../src/ike/v1/tasks/cert-auth.js'
import { fqdnIdentity } from '../../src/ike/v1/tasks/main-mode.js'
import { IdType } from '../../src/ike/v1/constants.js'
import { OakleyAuth } from '../../src/ike/v1/oakley.js'
import { I_ADDR, R_ADDR, childOf, pair } from './v1-harness.js'

// Generated once per file: RSA 2048 generation is slow.
const caPem = createCa({ commonName: 'Gatehouse Test CA' })
const ca = loadCa(caPem)
const otherCa = loadCa(createCa({ commonName: 'Some Other CA' }))
const server = issueCert(ca, { kind: 'server', commonName: 'vpn.example', dnsNames: ['vpn.example'], ipAddresses: [R_ADDR] })
const client = issueCert(ca, { kind: 'client', commonName: 'alice.example' })
const revoked = issueCert(ca, { kind: 'client', commonName: 'mallory.example' })
const foreign = issueCert(otherCa, { kind: 'client', commonName: 'eve.example' })
const anchors = [new X509Certificate(caPem.certPem)]
const revocation: Revocation = { isRevoked: (s) => s === revoked.serial, revokedSerials: new Set([revoked.serial]) }
const trust = { anchors, revocation, wallClock: () => Date.now() }
const der = (c: IssuedCert): Uint8Array => new Uint8Array(new X509Certificate(c.certPem).raw)
const creds = (c: IssuedCert) => ({ credentials: { certDer: der(c), keyPem: c.keyPem }, trust })

function certPair(iCert: IssuedCert, rCert: IssuedCert, iMore: Partial<IkeV1EndpointOptions> = {}, rMore: Partial<IkeV1EndpointOptions> = {}) {
  // Ethernet-sized datagrams: these tests read whole MM5/MM6 from the log (fragmentation: v1-fragmentation.test.ts).
  return pair({ extra: { fragmentation: { fragmentSize: 1500 } }, iExtra: { ...creds(iCert), ...iMore }, rExtra: { ...creds(rCert), ...rMore } })
}
const closed = (evs: readonly IkeV1Event[]) => evs.find((e) => e.type === 'closed')?.type === 'closed' ? (evs.find((e) => e.type === 'closed') as Extract<IkeV1Event, { type: 'closed' }>).reason : undefined
const ikeUp = (evs: readonly IkeV1Event[]) => evs.find((e): e is Extract<IkeV1Event, { type: 'ikeUp' }> => e.type === 'ikeUp')

test('RSA signatures: MM1..MM6 + QM1..QM3, CR in 3/4, DN IDs bound to the certificates, keys mirror', () => {
  const p = certPair(client, server)
  p.connect()
  p.pump()
  assert.equal(p.log.length, 9)
  const [ci] = childOf(p.events.i), [cr] = childOf(p.events.r)
  assert.ok(ci && cr, 'both child SAs up')
  assert.deepEqual(ci.outbound.keymat, cr.inbound.keymat)
  assert.deepEqual(ci.inbound.keymat, cr.outbound.keymat)
  const upR = ikeUp(p.events.r)!, upI = ikeUp(p.events.i)!
  assert.equal(upR.peerId.idType, IdType.DerAsn1Dn)
  assert.deepEqual(upR.peerId.data, subjectDerOf(der(client)))
  assert.deepEqual(upI.peerId.data, subjectDerOf(der(server)))
  assert.equal(upR.peerCertificate?.serial, client.serial)
  assert.equal(upI.peerCertificate?.serial, server.serial)
  // MM1 offers RSA signatures (auth method 3); MM3 and MM4 (plaintext) carry a CR naming our CA by DN.
  for (const n of [2, 3]) {
    const m = decodeMessage(p.log[n]!.data)
    const cr = m.payloads.find((x) => x.payload === 'cr')
    assert.ok(cr && cr.payload === 'cr', `message ${n + 1} has a CR`)
    assert.equal(cr.encoding, 4)
    assert.deepEqual(cr.authority, subjectDerOf(new Uint8Array(anchors[0]!.raw)))
  }
  const m1 = decodeMessage(p.log[0]!.data).payloads[0]!
  assert.ok(m1.payload === 'sa')
  assert.ok(m1.proposals[0]!.transforms.every((t) => t.attributes.some((a) => a.type === 3 && a.value === OakleyAuth.RsaSignatures)))
})

test('an FQDN ID from the certificate SAN is accepted in place of the DN', () => {
  const p = certPair(client, server, { localId: fqdnIdentity('alice.example') })
  p.connect(); p.pump()
  assert.equal(childOf(p.events.r).length, 1)
  assert.equal(ikeUp(p.events.r)!.peerId.idType, IdType.Fqdn)
})

test('ECDSA P-256 certificates (RFC 4754 method 9) reach childSaUp', () => {
  const s = issueCert(ca, { kind: 'server', commonName: 'vpn.example', dnsNames: ['vpn.example'], keyType: 'ecdsa' })
  const c = issueCert(ca, { kind: 'client', commonName: 'bob.example', keyType: 'ecdsa' })
  const p = certPair(c, s)
  p.connect(); p.pump()
  assert.equal(childOf(p.events.i).length, 1)
  assert.equal(childOf(p.events.r).length, 1)
})

function assertRefused(p: ReturnType<typeof certPair>, responderReason: RegExp, notify: string) {
  p.connect(); p.settle()
  assert.equal(childOf(p.events.i).length, 0)
  assert.equal(childOf(p.events.r).length, 0)
  assert.equal(ikeUp(p.events.i), undefined, 'the initiator never comes up')
  assert.match(closed(p.events.r) ?? '', responderReason)
  // The refusal arrives HASH(1)-protected and ends the initiator's attempt at once (no retransmission timeout).
  assert.equal(closed(p.events.i), `the peer refused: ${notify}`)
  assert.equal(p.i.saCount, 0); assert.equal(p.r.saCount, 0)
}

test('a revoked client certificate is refused with AUTHENTICATION-FAILED', () => {
  assertRefused(certPair(revoked, server), /revoked/, 'AuthenticationFailed')
})

test('a certificate from another CA is refused', () => {
  assertRefused(certPair(foreign, server), /untrusted/, 'AuthenticationFailed')
})

test('an ID that the certificate does not name is refused with INVALID-ID-INFORMATION', () => {
  assertRefused(certPair(client, server, { localId: fqdnIdentity('ceo.example') }), /does not match its certificate/, 'InvalidIdInformation')
})

test('a client certificate presented by the "gateway" is refused by the initiator (role check)', () => {
  const other = issueCert(ca, { kind: 'client', commonName: 'carol.example' })
  const p = certPair(client, other)
  p.connect(); p.settle()
  assert.equal(childOf(p.events.i).length, 0)
  assert.match(closed(p.events.i) ?? '', /wrong-usage/)
  // The responder believed main mode done (it sent MM6); the protected notify takes its SA down.
  assert.equal(closed(p.events.r), 'the peer refused: AuthenticationFailed')
  assert.equal(p.i.saCount, 0); assert.equal(p.r.saCount, 0)
})

test('a PSK-only responder answers a signature proposal with NO-PROPOSAL-CHOSEN', () => {
  const p = pair({ iExtra: creds(client) })
  p.connect(); p.settle()
  assert.equal(childOf(p.events.i).length, 0)
  assert.equal(closed(p.events.i), 'the peer refused: NoProposalChosen')
})

test('a responder listing both methods takes PSK peers and certificate peers', () => {
  const both = { authMethods: [OakleyAuth.PreSharedKey, OakleyAuth.RsaSignatures] }
  const viaCert = certPair(client, server, {}, both)
  viaCert.connect(); viaCert.pump()
  assert.equal(childOf(viaCert.events.r).length, 1)
  const viaPsk = pair({ rExtra: { ...creds(server), ...both } })
  viaPsk.connect(); viaPsk.pump()
  assert.equal(childOf(viaPsk.events.r).length, 1)
})

test('a certificate with someone else\'s private key: SIG_I does not verify, AUTHENTICATION-FAILED', () => {
  const p = pair({ iExtra: { credentials: { certDer: der(client), keyPem: revoked.keyPem }, trust }, rExtra: creds(server) })
  assertRefused(p, /signature of .*alice\.example.* does not verify/, 'AuthenticationFailed')
})

test('an expired view of time (wall clock past notAfter) refuses the peer certificate', () => {
  const late = { anchors, wallClock: () => Date.now() + 3 * 365 * 86_400_000 }
  const p = pair({ iExtra: creds(client), rExtra: { credentials: { certDer: der(server), keyPem: server.keyPem }, trust: late } })
  assertRefused(p, /expired/, 'AuthenticationFailed')
})

test('hostile CERT payloads (random or truncated certificates) are refused, never thrown', () => {
  const good = der(client)
  fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: good.length - 1 }).map((n) => good.subarray(0, n))), fc.integer({ min: 0, max: 10 }), (data, idType) => {
    const r = checkPeerCertificate([{ payload: 'cert', encoding: 4, data }], { idType, data }, trust, 'client')
    assert.equal(r.ok, false)
  }), { seed: 17, numRuns: 200 })
})

test('ID binding: DN byte-equal, SAN DNS case-insensitive, SAN IPv4, nothing else', () => {
  const s = new X509Certificate(server.certPem)
  const v = { subjectDer: subjectDerOf(der(server)), dnsNames: ['vpn.example'], ipAddresses: [R_ADDR], emails: [] }
  assert.ok(s.subjectAltName?.includes('vpn.example'))
  assert.ok(idMatchesCertificate({ idType: IdType.DerAsn1Dn, data: v.subjectDer }, v))
  assert.ok(!idMatchesCertificate({ idType: IdType.DerAsn1Dn, data: subjectDerOf(der(client)) }, v))
  assert.ok(idMatchesCertificate({ idType: IdType.Fqdn, data: new TextEncoder().encode('VPN.example') }, v))
  assert.ok(!idMatchesCertificate({ idType: IdType.Fqdn, data: new TextEncoder().encode('vpn.example.evil') }, v))
  assert.ok(idMatchesCertificate({ idType: IdType.Ipv4Addr, data: Uint8Array.of(198, 18, 0, 2) }, v))
  assert.ok(!idMatchesCertificate({ idType: IdType.Ipv4Addr, data: Uint8Array.of(198, 18, 0, 1) }, v))
  assert.ok(!idMatchesCertificate({ idType: IdType.KeyId, data: v.subjectDer }, v), 'ID_KEY_ID is not bound to a certificate')
})

test('hostile datagrams at every stage of a certificate handshake: no internal error, SAs end with a reason', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 9 }), fc.array(fc.uint8Array({ minLength: 28, maxLength: 200 }), { maxLength: 12 }), fc.boolean(), (stage, noise, keepCookies) => {
    const p = certPair(client, server)
    p.connect()
    let delivered = 0
    p.pump(() => (delivered++ < stage ? 'ok' : 'drop'))
    const last = p.log[p.log.length - 1]?.data
    for (const n of noise) {
      const d = new Uint8Array(n)
      if (keepCookies && last) { d.set(last.subarray(0, 16)); d[17] = 0x10; d[18] = 2; new DataView(d.buffer).setUint32(24, d.length) }
      p.i.handleDatagram(p.clock.now, d, { address: R_ADDR, port: 500 })
      p.r.handleDatagram(p.clock.now, d, { address: I_ADDR, port: 500 })
    }
    p.settle()
    for (const ep of [p.i, p.r]) assert.equal(ep.counters()['error:internal'] ?? 0, 0)
    for (const evs of [p.events.i, p.events.r]) assert.ok(evs.every((e) => e.type !== 'closed' || e.reason.length > 0))
  }), { seed: 99, numRuns: 60 })
})

test('an initiator offering RSA signatures without credentials ends with a configuration reason, no crash', () => {
  const rsaOnly = [{ encryption: 7, keyLength: 256, hash: 4, authMethod: OakleyAuth.RsaSignatures, group: 14, seconds: 28800 }]
  const p = pair({ iExtra: { phase1Proposals: rsaOnly }, rExtra: creds(server) })
  p.connect(); p.settle()
  assert.match(closed(p.events.i) ?? '', /needs credentials/)
  assert.equal(p.i.counters()['error:internal'] ?? 0, 0)
})

test('certificate main mode datagrams: sizes stay under an Ethernet MTU with RSA-2048 (no IKE fragmentation needed here)', () => {
  const p = certPair(client, server)
  p.connect(); p.pump()
  for (const n of [4, 5]) assert.ok(p.log[n]!.data.length < 1472, `MM${n + 1} is ${p.log[n]!.data.length} bytes`)
})

test('certificates through a NAT: MM5 floats to 4500 and both sides reach childSaUp (UDP-encapsulated)', () => {
  const p = pair({ nat: true, iExtra: creds(client), rExtra: creds(server) })
  p.connect(); p.pump()
  const [ci] = childOf(p.events.i)
  assert.ok(ci && childOf(p.events.r).length === 1)
  assert.equal(ci.natT, true)
  assert.equal(p.log[4]!.to.port, 4500)
})

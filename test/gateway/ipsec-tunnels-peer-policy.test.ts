// The IKEv1 core's per-peer policy (IkeV1EndpointOptions.peerPolicy) as the gateway uses it for site-to-site
// tunnels next to L2TP/IPsec on one UDP 500: pair tests in memory (test/ike/v1-harness.ts). A tunnel peer's
// quick mode must be tunnel mode inside its subnets (RFC 2409 §5.5 IDci/IDcr), anyone else gets the
// endpoint-wide transport policy; phase 1 methods and proposals follow the peer too.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { I_ADDR, childOf, pair } from '../ike/v1-harness.js'
import type { PeerPolicy } from '../../src/ike/v1/endpoint.js'
import type { Endpoint } from '../../src/lib/endpoint.js'
import { subnetSelector, tunnelAcceptsSelectors } from '../../src/gateway/ipsec-tunnels-policy.js'
import { DEFAULT_PHASE1_PROPOSALS } from '../../src/ike/v1/informational.js'
import { OakleyEncryption } from '../../src/ike/v1/oakley.js'

const SUBNETS = { localSubnets: ['10.2.0.0/24'], remoteSubnets: ['10.1.0.0/24'] }
const tunnelPeer = (peer: Endpoint): PeerPolicy | undefined => (peer.address === I_ADDR ? { mode: 'tunnel', acceptSelectors: (l, r) => tunnelAcceptsSelectors(SUBNETS, l, r) } : undefined)
const tunnelChild = (local: string, remote: string) => ({ mode: 'tunnel' as const, selectors: { local: subnetSelector(local), remote: subnetSelector(remote) } })

test('a tunnel peer gets a tunnel-mode child for its subnets from a responder whose endpoint-wide mode is transport', () => {
  const p = pair({ rExtra: { mode: 'transport', acceptSelectors: () => false, peerPolicy: tunnelPeer } })
  p.connect(tunnelChild('10.1.0.0/24', '10.2.0.0/24'))
  p.settle()
  const [ci] = childOf(p.events.i), [cr] = childOf(p.events.r)
  assert.ok(ci && cr, JSON.stringify(p.events.r.map((e) => e.type)))
  assert.equal(cr.mode, 'tunnel')
  assert.deepEqual(cr.selectors, { local: subnetSelector('10.2.0.0/24'), remote: subnetSelector('10.1.0.0/24') })
})

test('the same tunnel peer asking for transport mode, or for subnets outside its tunnel, is refused; the IKE SA stays', () => {
  for (const child of [{ mode: 'transport' as const }, tunnelChild('10.9.0.0/24', '10.2.0.0/24')]) {
    const p = pair({ rExtra: { mode: 'transport', peerPolicy: tunnelPeer } })
    p.connect(child)
    p.settle()
    assert.equal(childOf(p.events.r).length, 0)
    assert.ok(p.events.i.some((e) => e.type === 'childSaFailed'), JSON.stringify(p.events.i.map((e) => e.type)))
    assert.ok(p.events.i.some((e) => e.type === 'ikeUp'))
  }
})

test('a peer without a policy keeps the endpoint-wide policy (L2TP/IPsec transport mode)', () => {
  const p = pair({ rExtra: { mode: 'transport', peerPolicy: () => undefined } })
  p.connect()
  p.settle()
  assert.equal(childOf(p.events.r)[0]?.mode, 'transport')
})

test('phase 1 per peer: no auth method for a peer refuses its main mode; the initiator offers the policy\'s proposals', () => {
  const refused = pair({ rExtra: { peerPolicy: () => ({ authMethods: [] }) } })
  refused.connect()
  refused.settle()
  assert.ok(!refused.events.r.some((e) => e.type === 'ikeUp'))
  assert.ok(refused.events.i.some((e) => e.type === 'closed'))
  // The responder accepts only 3DES; the initiator's endpoint-wide proposals lead with AES, its policy for this peer offers 3DES only.
  const tdes = DEFAULT_PHASE1_PROPOSALS.filter((t) => t.encryption === OakleyEncryption.TripleDesCbc)
  const aes = DEFAULT_PHASE1_PROPOSALS.filter((t) => t.encryption !== OakleyEncryption.TripleDesCbc)
  const only3des = { acceptPhase1: (t: { encryption: number }) => t.encryption === OakleyEncryption.TripleDesCbc }
  const ok = pair({ iExtra: { phase1Proposals: aes, peerPolicy: () => ({ phase1Proposals: tdes }) }, rExtra: only3des })
  ok.connect()
  ok.settle()
  assert.ok(ok.events.r.some((e) => e.type === 'ikeUp'))
  const control = pair({ iExtra: { phase1Proposals: aes }, rExtra: only3des })
  control.connect()
  control.settle()
  assert.ok(!control.events.r.some((e) => e.type === 'ikeUp'), 'without the policy the AES-only offer is refused')
})

test('trust per peer: a tunnel peer\'s certificate from its own CA is accepted from that peer only, never by the endpoint-wide trust', async () => {
  const { X509Certificate } = await import('node:crypto')
  const { createCa, loadCa } = await import('../../src/pki/ca.js')
  const { issueCert } = await import('../../src/pki/issue.js')
  const oursPem = createCa({ commonName: 'Our CA' }), theirsPem = createCa({ commonName: 'Peer Site CA' })
  const ours = loadCa(oursPem), theirs = loadCa(theirsPem)
  const rCert = issueCert(ours, { kind: 'server', commonName: 'gw-a.example', dnsNames: ['gw-a.example'] })
  const iCert = issueCert(theirs, { kind: 'server', commonName: 'gw-b.example', dnsNames: ['gw-b.example'] })
  const none = { isRevoked: () => false, revokedSerials: new Set<string>() }
  const trustOf = (pem: string) => ({ anchors: [new X509Certificate(pem)], revocation: none, wallClock: () => Date.now() })
  const creds = (c: { certPem: string; keyPem: string }) => ({ certDer: new Uint8Array(new X509Certificate(c.certPem).raw), keyPem: c.keyPem })
  const run = (policy: boolean) => {
    const p = pair({
      iExtra: { credentials: creds(iCert), trust: trustOf(oursPem.certPem) },
      rExtra: { credentials: creds(rCert), trust: trustOf(oursPem.certPem), ...(policy ? { peerPolicy: (peer: Endpoint) => (peer.address === I_ADDR ? { trust: trustOf(theirsPem.certPem) } : undefined) } : {}) },
    })
    p.connect()
    p.settle()
    return p.events.r.some((e) => e.type === 'ikeUp')
  }
  assert.equal(run(true), true, 'the peer policy trusts the peer site CA for this peer')
  assert.equal(run(false), false, 'the endpoint-wide trust (our CA only) refuses it')
})

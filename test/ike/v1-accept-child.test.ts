// Per-peer responder policy (acceptChild): one responder takes L2TP/IPsec in transport mode from any
// peer and a site-to-site tunnel for configured subnets from one named peer; refusals carry the reason,
// are counted, and come back as INVALID-ID-INFORMATION (RFC 2409 §5.5) or NO-PROPOSAL-CHOSEN.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesEqual } from '../../src/lib/bytes.js'
import type { AcceptChild, ChildPolicyQuery } from '../../src/ike/v1/endpoint.js'
import { IdType } from '../../src/ike/v1/constants.js'
import { fqdnIdentity } from '../../src/ike/v1/tasks/main-mode.js'
import { ipv4SubnetSelector } from '../../src/ike/v1/tasks/quick-mode.js'
import type { TrafficSelector } from '../../src/ike/v1/tasks/quick-mode.js'
import { addressBytes } from '../../src/ike/v1/nat-t.js'
import { I_ADDR, childOf, pair } from './v1-harness.js'

const BRANCH = fqdnIdentity('branch.example')
const HQ_NET = ipv4SubnetSelector(Uint8Array.of(10, 1, 0, 0), 16)
const BRANCH_NET = ipv4SubnetSelector(Uint8Array.of(10, 2, 0, 0), 16)
const same = (a: TrafficSelector | undefined, b: TrafficSelector): boolean => a !== undefined && a.idType === b.idType && bytesEqual(a.data, b.data)

/** The gateway's policy: the branch (by FQDN) gets its tunnel and nothing else; anyone else L2TP/IPsec. */
const asked: ChildPolicyQuery[] = []
const policy: AcceptChild = (q) => {
  asked.push(q)
  const branch = q.peerId.idType === IdType.Fqdn && bytesEqual(q.peerId.data, BRANCH.data)
  if (branch) {
    if (q.mode !== 'tunnel') return 'the branch link is tunnel mode only'
    return same(q.local, HQ_NET) && same(q.remote, BRANCH_NET) ? true : 'not the configured subnets of branch.example'
  }
  if (q.mode !== 'transport') return 'remote-access peers get transport mode (L2TP/IPsec)'
  return q.local?.port === 1701 && q.remote?.port === 1701 ? true : 'L2TP (UDP 1701) only'
}
const branchPair = (seed: number) => pair({ seed, rExtra: { acceptChild: policy }, iExtra: { localId: BRANCH } })

test('acceptChild: an L2TP/IPsec peer gets transport mode; childSaUp carries its phase 1 identity', () => {
  asked.length = 0
  const p = pair({ seed: 300, rExtra: { acceptChild: policy } })
  p.connect()
  p.pump()
  const [ci] = childOf(p.events.i), [cr] = childOf(p.events.r)
  assert.ok(ci && cr)
  assert.equal(cr.mode, 'transport')
  assert.equal(cr.peerId.idType, IdType.Ipv4Addr)
  assert.deepEqual(cr.peerId.data, addressBytes(I_ADDR))
  assert.ok(asked.length >= 1 && asked[0]!.mode === 'transport' && asked[0]!.peer.address === I_ADDR)
})

test('acceptChild: the branch gets a tunnel for its configured subnets, on the same responder settings', () => {
  const p = branchPair(310)
  p.connect({ mode: 'tunnel', selectors: { local: BRANCH_NET, remote: HQ_NET } })
  p.pump()
  const [ci] = childOf(p.events.i), [cr] = childOf(p.events.r)
  assert.ok(ci && cr, JSON.stringify(p.events.r.filter((e) => e.type !== 'childSaUp')))
  assert.equal(ci.mode, 'tunnel'); assert.equal(cr.mode, 'tunnel')
  assert.ok(same(cr.selectors?.local, HQ_NET) && same(cr.selectors?.remote, BRANCH_NET))
  assert.deepEqual(cr.peerId, { idType: IdType.Fqdn, data: BRANCH.data })
  assert.deepEqual(ci.outbound.keymat, cr.inbound.keymat)
})

test('acceptChild refusal, wrong subnets: INVALID-ID-INFORMATION with the reason, counted; the IKE SA stays', () => {
  const p = branchPair(320)
  p.connect({ mode: 'tunnel', selectors: { local: ipv4SubnetSelector(Uint8Array.of(10, 9, 0, 0), 16), remote: HQ_NET } })
  p.settle()
  assert.equal(childOf(p.events.i).length + childOf(p.events.r).length, 0)
  const fr = p.events.r.find((e) => e.type === 'childSaFailed'), fi = p.events.i.find((e) => e.type === 'childSaFailed')
  assert.ok(fr && fr.type === 'childSaFailed' && /not the configured subnets of branch\.example/.test(fr.reason), JSON.stringify(fr))
  assert.ok(fi && fi.type === 'childSaFailed' && /InvalidIdInformation/.test(fi.reason), JSON.stringify(fi))
  assert.equal(p.r.counters()['refused:child-policy'], 1)
  assert.equal(p.events.i.filter((e) => e.type === 'closed').length, 0)
  assert.equal(p.r.saCount, 1)
})

test('acceptChild refusal, wrong mode (tunnel would pass with the same subnets): NO-PROPOSAL-CHOSEN', () => {
  const p = branchPair(330)
  p.connect({ mode: 'transport', selectors: { local: BRANCH_NET, remote: HQ_NET } })
  p.settle()
  const fr = p.events.r.find((e) => e.type === 'childSaFailed'), fi = p.events.i.find((e) => e.type === 'childSaFailed')
  assert.ok(fr && fr.type === 'childSaFailed' && /tunnel mode only/.test(fr.reason), JSON.stringify(fr))
  assert.ok(fi && fi.type === 'childSaFailed' && /NoProposalChosen/.test(fi.reason), JSON.stringify(fi))
})

test('acceptChild returning false, and an L2TP peer asking for a tunnel, are refused too', () => {
  const p = pair({ seed: 340, rExtra: { acceptChild: () => false } })
  p.connect()
  p.settle()
  const fr = p.events.r.find((e) => e.type === 'childSaFailed')
  assert.ok(fr && fr.type === 'childSaFailed' && /refused by policy/.test(fr.reason))
  const q = pair({ seed: 341, rExtra: { acceptChild: policy } })
  q.connect({ mode: 'tunnel', selectors: { local: BRANCH_NET, remote: HQ_NET } })
  q.settle()
  assert.equal(childOf(q.events.r).length, 0)
  assert.equal(q.r.counters()['refused:child-policy'], 1)
})

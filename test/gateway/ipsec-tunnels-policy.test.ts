// Tunnel policy helpers (issue 4 §6): IKEv1 IPv4 selectors as ranges (RFC 2407 §4.6.2.2/.4/.7), the
// responder's subnet check and peerId matching (RFC 4945 §3.1: IPv4, FQDN, USER_FQDN, DN).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { peerIdMatches, selectorRange, subnetSelector, tunnelAcceptsSelectors } from '../../src/gateway/ipsec-tunnels-policy.js'
import { IdType } from '../../src/ike/v1/constants.js'

const sel = (idType: number, data: number[], protocol = 0, port = 0) => ({ idType, protocol, port, data: Uint8Array.from(data) })
const ip = (s: string): number => s.split('.').reduce((a, o) => ((a << 8) | Number(o)) >>> 0, 0)

test('selectorRange: ID_IPV4_ADDR, ID_IPV4_ADDR_SUBNET (contiguous mask, host bits ignored), ID_IPV4_ADDR_RANGE', () => {
  assert.deepEqual(selectorRange(sel(IdType.Ipv4Addr, [10, 2, 0, 7])), { first: ip('10.2.0.7'), last: ip('10.2.0.7') })
  assert.deepEqual(selectorRange(sel(IdType.Ipv4AddrSubnet, [10, 2, 0, 9, 255, 255, 255, 0])), { first: ip('10.2.0.0'), last: ip('10.2.0.255') })
  assert.deepEqual(selectorRange(sel(IdType.Ipv4AddrSubnet, [0, 0, 0, 0, 0, 0, 0, 0])), { first: 0, last: 0xffffffff })
  assert.deepEqual(selectorRange(sel(IdType.Ipv4AddrRange, [10, 2, 0, 1, 10, 2, 0, 9])), { first: ip('10.2.0.1'), last: ip('10.2.0.9') })
  assert.equal(selectorRange(sel(IdType.Ipv4AddrSubnet, [10, 2, 0, 0, 255, 0, 255, 0])), undefined, 'non-contiguous mask')
  assert.equal(selectorRange(sel(IdType.Ipv4AddrRange, [10, 2, 0, 9, 10, 2, 0, 1])), undefined, 'reversed range')
  assert.equal(selectorRange(sel(IdType.Ipv4AddrSubnet, [10, 2, 0, 0])), undefined, 'short')
  assert.equal(selectorRange(sel(IdType.Fqdn, [97])), undefined)
})

test('subnetSelector builds ID_IPV4_ADDR_SUBNET address + mask, protocol and port 0', () => {
  assert.deepEqual(subnetSelector('10.2.0.0/23'), sel(IdType.Ipv4AddrSubnet, [10, 2, 0, 0, 255, 255, 254, 0]))
  assert.deepEqual(subnetSelector('10.2.0.5/32'), sel(IdType.Ipv4AddrSubnet, [10, 2, 0, 5, 255, 255, 255, 255]))
})

test('tunnelAcceptsSelectors: equal or narrower inside the configured subnets; wider, swapped or port-limited refused', () => {
  const t = { localSubnets: ['10.1.0.0/24'], remoteSubnets: ['10.2.0.0/24', '10.3.0.0/16'] }
  assert.equal(tunnelAcceptsSelectors(t, subnetSelector('10.1.0.0/24'), subnetSelector('10.2.0.0/24')), true)
  assert.equal(tunnelAcceptsSelectors(t, subnetSelector('10.1.0.0/25'), subnetSelector('10.3.4.0/24')), true)
  assert.equal(tunnelAcceptsSelectors(t, sel(IdType.Ipv4Addr, [10, 1, 0, 3]), sel(IdType.Ipv4Addr, [10, 2, 0, 3])), true)
  assert.equal(tunnelAcceptsSelectors(t, subnetSelector('10.1.0.0/23'), subnetSelector('10.2.0.0/24')), false)
  assert.equal(tunnelAcceptsSelectors(t, subnetSelector('10.2.0.0/24'), subnetSelector('10.1.0.0/24')), false)
  assert.equal(tunnelAcceptsSelectors(t, { ...subnetSelector('10.1.0.0/24'), protocol: 17, port: 1701 }, subnetSelector('10.2.0.0/24')), false)
  assert.equal(tunnelAcceptsSelectors(t, subnetSelector('10.1.0.0/24'), sel(IdType.Ipv6AddrSubnet, new Array(32).fill(0))), false)
})

test('peerIdMatches: IPv4, FQDN and user@FQDN ignoring case, DN by its RDNs in any order', () => {
  const id = (idType: number, s: string) => ({ idType, data: new TextEncoder().encode(s) })
  assert.equal(peerIdMatches('198.18.60.1', { idType: IdType.Ipv4Addr, data: Uint8Array.of(198, 18, 60, 1) }, undefined), true)
  assert.equal(peerIdMatches('198.18.60.1', { idType: IdType.Ipv4Addr, data: Uint8Array.of(198, 18, 60, 2) }, undefined), false)
  assert.equal(peerIdMatches('gw-b.Example.org', id(IdType.Fqdn, 'GW-B.example.org'), undefined), true)
  assert.equal(peerIdMatches('gw-b.example.org', id(IdType.UserFqdn, 'gw-b.example.org'), undefined), false)
  assert.equal(peerIdMatches('ops@example.org', id(IdType.UserFqdn, 'OPS@example.org'), undefined), true)
  assert.equal(peerIdMatches('CN=gw-b, O=Example', id(IdType.DerAsn1Dn, ''), 'O=Example\nCN=gw-b'), true)
  assert.equal(peerIdMatches('CN=gw-b, O=Example', id(IdType.DerAsn1Dn, ''), 'O=Example\nCN=gw-c'), false)
  assert.equal(peerIdMatches('CN=gw-b', id(IdType.DerAsn1Dn, ''), undefined), false, 'a DN needs a certificate')
})

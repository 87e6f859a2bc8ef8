// The client checks that the gateway's certificate names the host it dialled (IkeTrust.expectName), as a
// TLS client checks its server: a DNS name (case-insensitive) or the IP address, from subjectAltName.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { createCa, loadCa } from '../../src/pki/ca.js'
import { issueCert } from '../../src/pki/issue.js'
import type { IssuedCert } from '../../src/pki/issue.js'
import type { IkeV1Event } from '../../src/ike/v1/endpoint.js'
import { namesHost } from '../../src/ike/v1/tasks/cert-auth.js'
import { R_ADDR, childOf, pair } from './v1-harness.js'

const caPem = createCa({ commonName: 'Gatehouse Name Test CA' })
const ca = loadCa(caPem)
const server = issueCert(ca, { kind: 'server', commonName: 'vpn.example', dnsNames: ['vpn.example'], ipAddresses: [R_ADDR] })
const client = issueCert(ca, { kind: 'client', commonName: 'laptop.example' })
const anchors = [new X509Certificate(caPem.certPem)]
const der = (c: IssuedCert): Uint8Array => new Uint8Array(new X509Certificate(c.certPem).raw)

function dial(expectName: string) {
  const p = pair({
    extra: { fragmentation: { fragmentSize: 1500 } },
    iExtra: { credentials: { certDer: der(client), keyPem: client.keyPem }, trust: { anchors, wallClock: () => Date.now(), expectName } },
    rExtra: { credentials: { certDer: der(server), keyPem: server.keyPem }, trust: { anchors, wallClock: () => Date.now() } },
  })
  p.connect()
  p.settle()
  return p
}
const closedReason = (evs: readonly IkeV1Event[]): string | undefined => {
  const e = evs.find((x) => x.type === 'closed')
  return e && e.type === 'closed' ? e.reason : undefined
}

test('the gateway certificate names the dialled DNS name (any case) or address: up', () => {
  for (const host of ['vpn.example', 'VPN.Example', R_ADDR]) assert.equal(childOf(dial(host).events.i).length, 1, host)
})

test('a gateway certificate from the right CA that does not name the dialled host is refused with the names it has', () => {
  const p = dial('other.example')
  assert.equal(childOf(p.events.i).length, 0)
  assert.match(closedReason(p.events.i) ?? '', /the gateway's certificate \(CN=vpn\.example.*\) is not valid for "other\.example": it names vpn\.example, 198\.18\.0\.2/)
})

test('namesHost: exact SAN entries only (no suffix or wildcard games), a trailing dot ignored', () => {
  const v = { dnsNames: ['vpn.example'], ipAddresses: ['198.18.0.2'] }
  assert.ok(namesHost(v, 'vpn.example.'))
  assert.ok(!namesHost(v, 'evil-vpn.example'))
  assert.ok(!namesHost(v, 'example'))
  assert.ok(!namesHost(v, '198.18.0.20'))
})

// `ipsec.tunnels` (issue 4 §6): each entry field by field (schema.ts), then the checks across entries
// (config/ipsec-tunnels.ts): special ranges, pool/routes/link overlap, duplicates, the peer inside its own subnets.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../../src/config/load.js'
import { renderConfig } from '../../src/config/template.js'
import { VpnError } from '../../src/lib/errors.js'

const DIR = '/etc/gatehouse'

function expectConfigError(yaml: string, ...fragments: string[]): void {
  assert.throws(() => parseConfig(yaml, DIR), (e: unknown) => {
    assert.ok(e instanceof VpnError, `not a VpnError: ${String(e)}`)
    assert.equal(e.code, 'ERR_CONFIG')
    for (const f of fragments) assert.ok(e.message.includes(f), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(f)}`)
    return true
  })
}

const T = (over = '', name = 'b', peer = '198.18.60.1', remote = '10.2.0.0/24'): string =>
  `  - {name: ${name}, peer: ${peer}, auth: psk, pskFile: t/${name}.psk, localSubnets: ["10.1.0.0/24"], remoteSubnets: ["${remote}"]${over ? `, ${over}` : ''}}\n`
const yaml = (...tunnels: string[]): string => `ipsec:\n  tunnels:\n${tunnels.join('')}`

test('absent: no tunnels; the ipsec section keeps its remote-access keys only', () => {
  const c = parseConfig('', DIR)
  assert.deepEqual(c.ipsecTunnels, [])
  assert.deepEqual(c.ipsec, { auth: ['certificate'], pskFile: '/etc/gatehouse/ipsec.psk', aggressiveMode: false })
})

test('a PSK tunnel: fields kept, pskFile resolved against the directory, initiate defaults to true', () => {
  const c = parseConfig(yaml(T()), DIR)
  assert.deepEqual(c.ipsecTunnels, [{ name: 'b', peer: '198.18.60.1', auth: 'psk', pskFile: '/etc/gatehouse/t/b.psk', localSubnets: ['10.1.0.0/24'], remoteSubnets: ['10.2.0.0/24'], initiate: true }])
})

test('a certificate tunnel (the default auth) with peerId, caFile and initiate false', () => {
  const c = parseConfig(yaml('  - {name: s, peer: 198.18.0.1, peerId: "CN=gw-b", caFile: /srv/ca.pem, localSubnets: ["10.1.0.0/24", "10.9.0.0/16"], remoteSubnets: ["10.2.0.0/24"], initiate: false}\n'), DIR)
  assert.deepEqual(c.ipsecTunnels[0], { name: 's', peer: '198.18.0.1', auth: 'certificate', caFile: '/srv/ca.pem', peerId: 'CN=gw-b', localSubnets: ['10.1.0.0/24', '10.9.0.0/16'], remoteSubnets: ['10.2.0.0/24'], initiate: false })
})

test('each field is checked and named', () => {
  expectConfigError(yaml(T('secret: x')), 'ipsec.tunnels[0].secret', 'unknown key')
  expectConfigError(yaml('  - {peer: 198.18.60.1, auth: psk, pskFile: p, localSubnets: ["10.1.0.0/24"], remoteSubnets: ["10.2.0.0/24"]}\n'), 'ipsec.tunnels[0].name', 'required')
  expectConfigError(yaml(T('', 'bad name')), 'ipsec.tunnels[0].name')
  expectConfigError(yaml(T('', 'b', 'gw.example')), 'ipsec.tunnels[0].peer', 'IPv4 address')
  expectConfigError(yaml('  - {name: b, peer: 198.18.60.1, auth: psk, localSubnets: ["10.1.0.0/24"], remoteSubnets: ["10.2.0.0/24"]}\n'), 'ipsec.tunnels[0].pskFile', 'required with auth: psk')
  expectConfigError(yaml('  - {name: b, peer: 198.18.60.1, pskFile: p, localSubnets: ["10.1.0.0/24"], remoteSubnets: ["10.2.0.0/24"]}\n'), 'ipsec.tunnels[0].pskFile', 'only with auth: psk')
  expectConfigError(yaml(T('caFile: /ca.pem')), 'ipsec.tunnels[0].caFile', 'only with auth: certificate')
  expectConfigError(yaml(T('auth: xauth').replace('auth: psk, ', '')), 'ipsec.tunnels[0].auth', 'psk, certificate')
  expectConfigError(yaml(T('initiate: sometimes')), 'ipsec.tunnels[0].initiate')
  expectConfigError(yaml(T('', 'b', '198.18.60.1', '10.2.0.1/24')), 'ipsec.tunnels[0].remoteSubnets[0]', 'host bits zero')
  expectConfigError(yaml(T('', 'b', '198.18.60.1', '0.0.0.0/0')), 'ipsec.tunnels[0].remoteSubnets[0]')
  expectConfigError(yaml('  - {name: b, peer: 198.18.60.1, auth: psk, pskFile: p, localSubnets: [], remoteSubnets: ["10.2.0.0/24"]}\n'), 'ipsec.tunnels[0].localSubnets', 'at least one')
  expectConfigError(yaml('  - {name: b, peer: 198.18.60.1, auth: psk, pskFile: p, localSubnets: ["10.1.0.0/24"]}\n'), 'ipsec.tunnels[0].remoteSubnets', 'at least one')
})

test('special ranges are refused as remote subnets', () => {
  for (const [net, what] of [['127.0.0.0/8', 'loopback'], ['224.0.0.0/4', 'multicast'], ['169.254.0.0/16', 'link-local'], ['0.0.0.0/1', '"this network"']] as const) {
    expectConfigError(yaml(T('', 'b', '198.18.60.1', net)), 'ipsec.tunnels (b)', what)
  }
})

test('a remote subnet may not overlap the pool, config routes, a link, another tunnel or its own local subnets', () => {
  expectConfigError(`pool: 10.2.0.0/24\n${yaml(T())}`, 'ipsec.tunnels (b)', 'client address pool')
  expectConfigError(`routes: ["10.2.0.0/16"]\n${yaml(T())}`, 'ipsec.tunnels (b)', 'config routes')
  expectConfigError(`links:\n  - {name: l, peer: "pptp://198.18.70.1", user: r, passwordFile: /p, routes: ["10.2.0.128/25"]}\n${yaml(T())}`, 'ipsec.tunnels (b)', 'link l')
  expectConfigError(yaml(T(), T('', 'c', '198.18.61.1', '10.2.0.0/23')), 'ipsec.tunnels (c)', '10.2.0.0/24 of tunnel b')
  expectConfigError(yaml(T('', 'b', '198.18.60.1', '10.1.0.0/25')), 'ipsec.tunnels (b)', 'overlaps local subnet 10.1.0.0/24')
})

test('duplicates: a name or a peer used twice, a subnet listed twice or nested', () => {
  expectConfigError(yaml(T(), T('', 'b', '198.18.61.1', '10.3.0.0/24')), 'ipsec.tunnels (b)', 'used twice')
  expectConfigError(yaml(T(), T('', 'c', '198.18.60.1', '10.3.0.0/24')), 'ipsec.tunnels (c)', 'also the peer of tunnel b')
  expectConfigError(yaml('  - {name: b, peer: 198.18.60.1, auth: psk, pskFile: p, localSubnets: ["10.1.0.0/24"], remoteSubnets: ["10.2.0.0/24", "10.2.0.0/25"]}\n'), 'ipsec.tunnels (b)', 'same list')
})

test('the peer address inside its own remote subnets is refused (IKE would be routed into the tunnel)', () => {
  expectConfigError(yaml(T('', 'b', '10.2.0.1')), 'ipsec.tunnels (b)', "contains the peer's own address 10.2.0.1")
})

test('two tunnels to different peers with disjoint subnets load', () => {
  const c = parseConfig(yaml(T(), T('', 'c', '198.18.61.1', '10.3.0.0/24')), DIR)
  assert.deepEqual(c.ipsecTunnels.map((t) => t.name), ['b', 'c'])
})

test('the rendered template documents ipsec.tunnels and loads back with none', () => {
  const text = renderConfig({})
  assert.match(text, /^ {2}tunnels: \[\]$/m)
  assert.match(text, /remoteSubnets/)
  assert.deepEqual(parseConfig(text, DIR).ipsecTunnels, [])
})

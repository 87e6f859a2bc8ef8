// Config loading: defaults, the rendered template round trip, and errors that name the field.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, parseConfig } from '../../src/config/load.js'
import { renderConfig } from '../../src/config/template.js'
import { DEFAULTS, defaultTunMtu } from '../../src/config/defaults.js'
import { VpnError } from '../../src/lib/errors.js'
import { tunnelMtu } from '../../src/dataplane/mtu.js'

const DIR = '/etc/gatehouse'

function expectConfigError(yaml: string, ...fragments: string[]): void {
  assert.throws(() => parseConfig(yaml, DIR), (e: unknown) => {
    assert.ok(e instanceof VpnError, `not a VpnError: ${String(e)}`)
    assert.equal(e.code, 'ERR_CONFIG')
    for (const f of fragments) assert.ok(e.message.includes(f), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(f)}`)
    return true
  })
}

test('an empty file gives every default, with paths resolved against the directory', () => {
  const c = parseConfig('', DIR)
  assert.equal(c.listen, '0.0.0.0')
  assert.deepEqual(c.protocols, ['sstp'])
  assert.equal(c.sstp.port, 443)
  assert.equal(c.pool, '198.19.0.0/24')
  assert.deepEqual(c.dns, [])
  assert.equal(c.auth.allowPap, false)
  assert.equal(c.auth.allowChap, false)
  assert.deepEqual(c.auth.lockout, { maxFailures: 5, windowSeconds: 900, lockSeconds: 900 })
  assert.deepEqual(c.auth.passwordPolicy, { minLength: 12, minClasses: 3 })
  assert.deepEqual(c.keepalive, { intervalSeconds: 10, failures: 3 })
  assert.deepEqual(c.tun, { name: 'gh0' })
  assert.equal(c.tun.mtu, undefined)
  assert.equal(defaultTunMtu(c.protocols), 1367, 'SSTP over 1500 with the costliest TLS record protection (dataplane/mtu.ts)')
  assert.deepEqual(c.forwarding, { enable: true, nat: false })
  assert.equal(c.log.level, 'info')
  assert.equal(c.paths.ca, '/etc/gatehouse/ca.pem')
  assert.equal(c.paths.usersDb, '/etc/gatehouse/users.db')
  assert.equal(c.paths.controlSocket, '/etc/gatehouse/control.sock')
})

test('the config is deeply frozen', () => {
  const c = parseConfig('dns: [198.18.0.53]', DIR)
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.auth.lockout) && Object.isFrozen(c.dns) && Object.isFrozen(c.paths))
  assert.throws(() => { (c.dns as string[]).push('1.1.1.1') }, TypeError)
  assert.throws(() => { (c.auth.lockout as { maxFailures: number }).maxFailures = 99 }, TypeError)
})

test('the rendered template loads back to exactly the defaults', () => {
  assert.deepEqual(parseConfig(renderConfig(), DIR), parseConfig('', DIR))
})

test('the template carries the options given to init, and comments every section', () => {
  const text = renderConfig({ listen: '198.18.0.1', pool: '198.19.4.0/22', dns: ['198.18.0.53'], wins: ['198.18.0.54'], routes: ['10.0.0.0/8'], sstpPort: 8443, tunName: 'vpn0', natInterface: 'eth1', logLevel: 'debug' })
  const c = parseConfig(text, DIR)
  assert.equal(c.listen, '198.18.0.1')
  assert.equal(c.pool, '198.19.4.0/22')
  assert.deepEqual(c.dns, ['198.18.0.53'])
  assert.deepEqual(c.wins, ['198.18.0.54'])
  assert.deepEqual(c.routes, ['10.0.0.0/8'])
  assert.equal(c.sstp.port, 8443)
  assert.equal(c.tun.name, 'vpn0')
  assert.deepEqual(c.forwarding, { enable: true, nat: true, natInterface: 'eth1' })
  assert.equal(c.log.level, 'debug')
  for (const key of ['listen:', 'protocols:', 'port:', 'pool:', 'dns:', 'wins:', 'routes:', 'allowPap:', 'allowChap:', 'maxFailures:', 'windowSeconds:', 'lockSeconds:', 'minLength:', 'minClasses:', 'intervalSeconds:', 'failures:', 'name:', 'mtu:', 'enable:', 'nat:', 'natInterface:', 'level:', 'ca:', 'caKey:', 'serverCert:', 'serverKey:', 'usersDb:', 'secretKey:', 'controlSocket:']) {
    assert.ok(text.includes(key), `template lacks ${key}`)
  }
  // Every option is preceded by a comment somewhere above; at least the two security switches say why.
  assert.match(text, /PAP sends the password in clear/)
  assert.match(text, /CHAP-MD5 and EAP-MD5 need the gateway to keep passwords reversibly/)
})

test('explicit values override defaults', () => {
  const c = parseConfig(`
auth:
  allowPap: true
  lockout: { maxFailures: 3 }
tun: { mtu: 1300 }
paths: { usersDb: /var/lib/gatehouse/users.db }
`, DIR)
  assert.equal(c.auth.allowPap, true)
  assert.deepEqual(c.auth.lockout, { maxFailures: 3, windowSeconds: 900, lockSeconds: 900 })
  assert.equal(c.tun.mtu, 1300)
  assert.equal(c.paths.usersDb, '/var/lib/gatehouse/users.db')
})

test('unknown keys are refused with their path and the accepted keys', () => {
  expectConfigError('colour: blue', 'colour', 'unknown key', 'listen')
  expectConfigError('auth:\n  allowMsChap: true', 'auth.allowMsChap', 'allowPap, allowChap, lockout, passwordPolicy')
  expectConfigError('auth:\n  lockout:\n    tries: 3', 'auth.lockout.tries', 'maxFailures')
})

test('bad values name the field and the accepted values', () => {
  expectConfigError('sstp: { port: 70000 }', 'sstp.port', 'integer from 1 to 65535', '70000')
  expectConfigError('sstp: { port: "443" }', 'sstp.port', 'integer')
  expectConfigError('listen: localhost', 'listen', 'IPv4 or IPv6 address')
  expectConfigError('protocols: [sstp, openvpn]', 'protocols[1]', 'sstp, pptp, l2tp, ikev2', '"openvpn"')
  expectConfigError('protocols: []', 'protocols', 'at least one')
  expectConfigError('pool: 198.19.0.1/24', 'pool', 'host bits zero')
  expectConfigError('pool: 198.19.0.0/31', 'pool', '/8 to /30')
  expectConfigError('dns: [198.18.0.300]', 'dns[0]', 'IPv4 address')
  expectConfigError('dns: [1.1.1.1, 8.8.8.8, 9.9.9.9]', 'dns', 'at most 2')
  expectConfigError('routes: [10.0.0.0/33]', 'routes[0]', 'CIDR')
  expectConfigError('auth: { allowChap: yes please }', 'auth.allowChap', 'true or false')
  expectConfigError('auth: { passwordPolicy: { minClasses: 5 } }', 'auth.passwordPolicy.minClasses', '1 to 4')
  expectConfigError('keepalive: { intervalSeconds: 0 }', 'keepalive.intervalSeconds')
  expectConfigError('tun: { name: "a name with spaces" }', 'tun.name', 'interface name')
  expectConfigError('tun: { mtu: 9000 }', 'tun.mtu', '576 to 1500')
  expectConfigError('forwarding: { enable: false, nat: true }', 'forwarding.nat', 'forwarding.enable')
  expectConfigError('log: { level: verbose }', 'log.level', 'debug, info, warn, error')
  expectConfigError('paths: { ca: "" }', 'paths.ca', 'file path')
  expectConfigError('auth: [1, 2]', 'auth', 'expected a mapping')
})

test('protocols not yet implemented are refused at load', () => {
  for (const p of ['ikev2']) expectConfigError(`protocols: [sstp, ${p}]`, 'protocols[1]', `${p} is not implemented yet`)
})

test('pptp: off by default, enabled by listing it; MPPE key bits validated, 128 by default', () => {
  const dflt = parseConfig('', DIR)
  assert.deepEqual(dflt.protocols, ['sstp'])
  assert.deepEqual(dflt.pptp, { port: 1723, mppeKeyBits: [128] })
  const on = parseConfig('protocols: [sstp, pptp]\npptp:\n  port: 11723\n  mppeKeyBits: [128, 40]', DIR)
  assert.deepEqual(on.protocols, ['sstp', 'pptp'])
  assert.deepEqual(on.pptp, { port: 11723, mppeKeyBits: [128, 40] })
  expectConfigError('pptp:\n  mppeKeyBits: [64]', 'pptp.mppeKeyBits[0]', 'expected 40, 56 or 128')
  expectConfigError('pptp:\n  mppeKeyBits: []', 'pptp.mppeKeyBits', 'MPPE is always required')
  expectConfigError('pptp:\n  mppe: 128', 'pptp.mppe', 'unknown key')
})

test('the TUN MTU fits the smallest enabled carrier', () => {
  assert.equal(defaultTunMtu(['sstp']), tunnelMtu('sstp'))
  assert.equal(defaultTunMtu(['pptp']), tunnelMtu('pptp'))
  assert.equal(defaultTunMtu(['sstp', 'pptp']), Math.min(tunnelMtu('sstp'), tunnelMtu('pptp')))
})

test('YAML syntax errors and duplicate keys are ERR_CONFIG', () => {
  expectConfigError('listen: [unclosed', 'YAML error')
  expectConfigError('listen: 0.0.0.0\nlisten: 198.18.0.1', 'YAML error')
})

test('loadConfig reads DIR/gatehouse.yaml and reports a missing file as ERR_CONFIG', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-config-'))
  try {
    assert.throws(() => loadConfig(dir), (e: unknown) => e instanceof VpnError && e.code === 'ERR_CONFIG' && e.message.includes('gatehouse.yaml'))
    writeFileSync(join(dir, 'gatehouse.yaml'), renderConfig({ pool: '198.19.8.0/24' }))
    const c = loadConfig(dir)
    assert.equal(c.pool, '198.19.8.0/24')
    assert.equal(c.paths.secretKey, join(dir, 'secret.key'))
    assert.equal(c.auth.lockout.maxFailures, DEFAULTS.auth.lockout.maxFailures)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('links: a router-to-router link is validated field by field, password path resolved against the directory', () => {
  const c = parseConfig('links:\n  - name: branch\n    peer: pptp://198.18.60.1\n    user: router-hq\n    passwordFile: links/b.pass\n    routes: ["10.2.0.0/24"]', DIR)
  assert.deepEqual(c.links, [{ name: 'branch', protocol: 'pptp', host: '198.18.60.1', port: 1723, user: 'router-hq', passwordFile: '/etc/gatehouse/links/b.pass', routes: ['10.2.0.0/24'] }])
  assert.equal(parseConfig('links:\n  - {name: b, peer: "pptp://gw.example:11723", user: r, passwordFile: /p, routes: ["10.2.0.0/24"]}', DIR).links[0]!.port, 11723)
  assert.deepEqual(parseConfig('', DIR).links, [])
  const base = (over: string): string => `links:\n  - {name: b, peer: "pptp://198.18.60.1", user: r, passwordFile: /p, routes: ["10.2.0.0/24"], ${over}}`
  expectConfigError('links:\n  - {name: b, peer: "sstp://h", user: r, passwordFile: /p, routes: ["10.2.0.0/24"]}', 'links[0].peer', 'pptp://HOST')
  expectConfigError('links:\n  - {name: b, peer: "pptp://h", user: r, passwordFile: /p, routes: []}', 'links[0].routes', 'at least one')
  expectConfigError('links:\n  - {name: b, peer: "pptp://h", user: r, passwordFile: /p, routes: ["10.2.0.1/24"]}', 'links[0].routes[0]')
  expectConfigError('links:\n  - {name: b, peer: "pptp://h", user: r, passwordFile: /p, routes: ["0.0.0.0/0"]}', 'links[0].routes[0]')
  expectConfigError('links:\n  - {name: b, peer: "pptp://h", user: r, routes: ["10.2.0.0/24"]}', 'links[0].passwordFile', 'required')
  expectConfigError(base('secret: x'), 'links[0].secret', 'unknown key')
  expectConfigError('links:\n  - {name: b, peer: "pptp://h", user: r, passwordFile: /p, routes: ["10.2.0.0/24"]}\n  - {name: b, peer: "pptp://i", user: r, passwordFile: /p, routes: ["10.3.0.0/24"]}', 'links', 'once')
})

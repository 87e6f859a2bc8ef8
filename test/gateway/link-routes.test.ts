// Gateway start-up checks on router-to-router link networks (config links[].routes).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkLinkRoutes, poolMembership } from '../../src/gateway/link-routes.js'
import type { LinkConfig } from '../../src/config/schema.js'

const link = (name: string, host: string, routes: string[]): LinkConfig => ({ name, protocol: 'pptp', host, port: 1723, user: 'r', passwordFile: '/p', routes })
const check = (links: LinkConfig[], routes: string[] = []): void => checkLinkRoutes({ pool: '198.19.71.0/24', routes, links })

test('ordinary link networks pass', () => {
  check([link('b', '198.18.70.2', ['198.18.72.0/24']), link('c', 'gw-c.example', ['10.3.0.0/16'])])
})

test('refused: special ranges, the default route in halves, overlap with the pool, config routes or another link', () => {
  const cases: [LinkConfig[], RegExp, string[]?][] = [
    [[link('b', '198.18.70.2', ['127.0.0.0/8'])], /links \(b\): 127\.0\.0\.0\/8 overlaps/],
    [[link('b', '198.18.70.2', ['0.0.0.0/1', '128.0.0.0/1'])], /links \(b\)/],
    [[link('b', '198.18.70.2', ['198.19.71.128/25'])], /links \(b\): 198\.19\.71\.128\/25 overlaps 198\.19\.71\.0\/24, the client address pool/],
    [[link('b', '198.18.70.2', ['10.1.0.0/24'])], /links \(b\): 10\.1\.0\.0\/24 overlaps 10\.1\.0\.0\/16, a network behind this gateway/, ['10.1.0.0/16']],
    [[link('b', '198.18.70.2', ['10.2.0.0/16']), link('c', '198.18.70.3', ['10.2.5.0/24'])], /links \(c\): 10\.2\.5\.0\/24 overlaps 10\.2\.0\.0\/16 of .*link b/],
    [[link('b', '198.18.70.2', ['10.2.0.1/24'])], /links \(b\): 10\.2\.0\.1\/24 has host bits set/],
  ]
  for (const [links, re, routes] of cases) assert.throws(() => check(links, routes), (e: Error & { code?: string }) => e.code === 'ERR_CONFIG' && re.test(e.message), String(re))
})

test("refused: networks that contain the peer's own address (the link would tunnel itself)", () => {
  assert.throws(() => check([link('b', '198.18.70.2', ['198.18.70.0/24'])]), /contains the peer's own address 198\.18\.70\.2/)
})

test('poolMembership', () => {
  const inPool = poolMembership('198.19.71.0/24')
  assert.equal(inPool('198.19.71.1'), true)
  assert.equal(inPool('198.19.72.1'), false)
  assert.equal(inPool('garbage'), false)
})

// `gatehouse ca` run as the real command on a directory made by `gatehouse init`: issue (client,
// server, --ecdsa, --legacy-p12, --p12), weak passwords refused before anything is written,
// list (table and --json), revoke (openssl then refuses the certificate), crl, usage errors.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '../../..')
const BIN = join(ROOT, 'bin/gatehouse.js')
const PW = 'Group-Cert-Pass-77'
let tmp = ''
let dir = ''

function gh(args: string[], input = ''): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 60_000 })
  return { code: r.status, out: r.stdout, err: r.stderr }
}
function openssl(args: string[]): { code: number | null; out: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8', timeout: 30_000 })
  if (r.error) throw new Error(`cannot run openssl: ${r.error.message}`)
  return { code: r.status, out: r.stdout + r.stderr }
}

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'gh-cli-ca-'))
  dir = join(tmp, 'gw')
  const init = gh(['init', '--dir', dir, '--listen', '127.0.0.1', '--pool', '198.19.0.0/24'])
  assert.equal(init.code, 0, init.err)
})
after(() => { rmSync(tmp, { recursive: true, force: true }) })

test('ca issue (client, default): DIR/NAME.p12 at 0600 with key, certificate and CA; openssl verifies it against DIR/ca.pem', () => {
  const r = gh(['ca', 'issue', '--dir', dir, 'alice'], PW + '\n')
  assert.equal(r.code, 0, r.err)
  assert.match(r.out, /^client certificate alice issued: serial [0-9a-f]{32}, valid until \d{4}-\d\d-\d\d\nbundle \(key \+ certificate \+ CA, AES-256\): .*alice\.p12\n$/)
  const p12 = join(dir, 'alice.p12')
  assert.equal(statSync(p12).mode & 0o777, 0o600)
  const info = openssl(['pkcs12', '-info', '-in', p12, '-passin', `pass:${PW}`, '-nodes'])
  assert.equal(info.code, 0, info.out)
  assert.match(info.out, /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC/)
  assert.match(info.out, /subject=CN = alice, O = Gatehouse/)
  assert.match(info.out, /subject=CN = Gatehouse CA/) // the CA certificate travels in the bundle
  const cert = join(tmp, 'alice.pem')
  assert.equal(openssl(['pkcs12', '-in', p12, '-passin', `pass:${PW}`, '-nokeys', '-clcerts', '-out', cert]).code, 0)
  assert.match(openssl(['verify', '-CAfile', join(dir, 'ca.pem'), cert]).out, /OK/)
  assert.match(openssl(['x509', '-in', cert, '-noout', '-ext', 'extendedKeyUsage']).out, /TLS Web Client Authentication, 1\.3\.6\.1\.5\.5\.8\.2\.2/)
})

test('ca issue --server --ecdsa --legacy-p12 --p12 FILE: server EKU, SAN, 3DES bundle where asked', () => {
  const p12 = join(tmp, 'gw1.p12')
  const r = gh(['ca', 'issue', '--dir', dir, 'vpn.example.test', '--server', '--dns', 'vpn.example.test,vpn2.example.test', '--ip', '198.18.0.1', '--ecdsa', '--legacy-p12', '--p12', p12], PW + '\n')
  assert.equal(r.code, 0, r.err)
  assert.match(r.out, /3DES legacy/)
  const info = openssl(['pkcs12', '-info', '-in', p12, '-passin', `pass:${PW}`, '-nodes'])
  assert.match(info.out, /Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC/)
  const cert = join(tmp, 'gw1.pem')
  openssl(['pkcs12', '-in', p12, '-passin', `pass:${PW}`, '-nokeys', '-clcerts', '-out', cert])
  const text = openssl(['x509', '-in', cert, '-noout', '-text']).out
  assert.match(text, /TLS Web Server Authentication, 1\.3\.6\.1\.5\.5\.8\.2\.2/)
  assert.match(text, /DNS:vpn\.example\.test, DNS:vpn2\.example\.test, IP Address:198\.18\.0\.1/)
  assert.match(text, /id-ecPublicKey/)
})

test('weak, mismatched or missing passwords and bad arguments are refused, and nothing is written', () => {
  const cases: [string[], string, RegExp][] = [
    [['bob'], 'short\n', /bundle password must be at least 12 characters/],
    [['bob'], 'alllowercaseletters\n', /mix 3 of/],
    [['bob'], 'Bob-is-my-name-1\n', /not contain the user name/],
    [['bob'], 'Pässwort-sehr-gut-1\n', /printable ASCII/],
    [['bob'], '', /no password on standard input/],
    [['bob', '--server'], PW + '\n', /needs --dns NAME/],
    [['bob', '--client', '--server'], PW + '\n', /choose one of --client and --server/],
    [['../evil'], PW + '\n', /NAME of 1 to 64/],
    [['bob', '--days', '0'], PW + '\n', /--days must be/],
    // refusals that need no password come before the prompt (stdin empty)
    [['bob', '--dns', 'bad name', '--server'], '', /--dns: not a DNS name/],
    [['bob', '--ip', '1.2.3', '--server'], '', /--ip: not an IP address/],
    [['bob', '--p12', join(dir, 'ca.pem')], '', /ca\.pem exists/],
    [['alice'], '', /alice already has a valid certificate/],
  ]
  for (const [args, input, message] of cases) {
    const r = gh(['ca', 'issue', '--dir', dir, ...args], input)
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.out}`)
    assert.match(r.err, message, args.join(' '))
  }
  assert.equal(existsSync(join(dir, 'bob.p12')), false)
  assert.doesNotMatch(gh(['ca', 'list', '--dir', dir]).out, /\bbob\b/)
})

test('ca list prints a table and --json; ca revoke marks it, rewrites crl.pem, and openssl -crl_check refuses it', () => {
  const list = gh(['ca', 'list', '--dir', dir])
  assert.equal(list.code, 0, list.err)
  const lines = list.out.trimEnd().split('\n')
  assert.match(lines[0]!, /^NAME\s+KIND\s+KEY\s+SERIAL\s+NOT AFTER\s+STATUS$/)
  assert.match(lines[1]!, /^alice\s+client\s+rsa\s+[0-9a-f]{32}\s+\d{4}-\d\d-\d\d\s+valid$/)
  assert.match(lines[2]!, /^vpn\.example\.test\s+server\s+ecdsa\s+[0-9a-f]{32}\s+\d{4}-\d\d-\d\d\s+valid$/)
  const json = JSON.parse(gh(['ca', 'list', '--dir', dir, '--json']).out) as { name: string; serial: string; status: string }[]
  assert.deepEqual(json.map((c) => [c.name, c.status]), [['alice', 'valid'], ['vpn.example.test', 'valid']])

  const rv = gh(['ca', 'revoke', '--dir', dir, 'alice', '--reason', 'keyCompromise'])
  assert.equal(rv.code, 0, rv.err)
  assert.match(rv.out, new RegExp(`certificate alice \\(serial ${json[0]!.serial}\\) revoked \\(keyCompromise\\)`))
  assert.match(gh(['ca', 'list', '--dir', dir]).out, /alice\s+client\s+rsa\s+\S+\s+\S+\s+revoked \d{4}-\d\d-\d\d \(keyCompromise\)/)
  const crl = join(dir, 'crl.pem')
  const crlText = openssl(['crl', '-in', crl, '-noout', '-text', '-CAfile', join(dir, 'ca.pem')]).out
  assert.match(crlText, /verify OK/)
  assert.match(crlText, new RegExp(`Serial Number: ${json[0]!.serial.toUpperCase()}`))
  const v = openssl(['verify', '-crl_check', '-CAfile', join(dir, 'ca.pem'), '-CRLfile', crl, join(tmp, 'alice.pem')])
  assert.notEqual(v.code, 0)
  assert.match(v.out, /certificate revoked/)
  assert.match(openssl(['verify', '-crl_check', '-CAfile', join(dir, 'ca.pem'), '-CRLfile', crl, join(tmp, 'gw1.pem')]).out, /OK/)

  // by serial, with a reason that is not one
  assert.match(gh(['ca', 'revoke', '--dir', dir, json[1]!.serial, '--reason', 'whim']).err, /--reason must be one of/)
  assert.match(gh(['ca', 'revoke', '--dir', dir, json[0]!.serial]).err, /already revoked/)
  const crlAgain = gh(['ca', 'crl', '--dir', dir])
  assert.equal(crlAgain.code, 0, crlAgain.err)
  assert.match(crlAgain.out, /crl\.pem signed, valid until \d{4}-\d\d-\d\d/)
})

test('usage: no action, an unknown action or stray words print the usage; --help works without --dir', () => {
  assert.match(gh(['ca', '--help']).out, /--legacy-p12 uses 3DES/)
  for (const args of [['ca'], ['ca', 'frobnicate', '--dir', dir], ['ca', 'revoke', '--dir', dir], ['ca', 'list', '--dir', dir, 'x', 'y']]) {
    const r = gh(args)
    assert.equal(r.code, 1, args.join(' '))
    assert.match(r.err, /usage:|needs NAME or SERIAL|unexpected/, args.join(' '))
  }
  assert.match(gh(['--help']).out, /gatehouse ca issue\|list\|revoke\|crl/)
})

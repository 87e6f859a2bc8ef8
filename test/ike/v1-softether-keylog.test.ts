// The IPsec debug key log (src/transport/ipsec-keylog.ts, GATEHOUSE_ESP_KEYLOG) and its conversion into tshark 4.0
// UAT rows (test/interop/esp-keylog.mjs) that decrypted the SoftEther captures: file mode, line format, rows.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { fromHex } from '../../src/lib/bytes.js'
import { openIpsecKeyLog } from '../../src/transport/ipsec-keylog.js'

interface KeyLogModule {
  parseKeyLog(text: string): { esp: unknown[]; ike: unknown[]; errors: string[] }
  tsharkOptions(log: { esp: unknown[]; ike: unknown[] }): string[]
}
const load = async (): Promise<KeyLogModule> => await import(pathToFileURL(resolve('test/interop/esp-keylog.mjs')).href) as KeyLogModule

test('key log: 0600 file, one line per SA direction and per ISAKMP SA; esp-keylog.mjs turns it into esp_sa / ikev1_decryption_table rows', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-keylog-'))
  try {
    const file = join(dir, 'keys.log')
    const errors: Error[] = []
    const log = openIpsecKeyLog(file, (e) => errors.push(e))
    log.ike({ ckyI: fromHex('0001020304050607'), ckyR: fromHex('08090a0b0c0d0e0f'), cipher: 'aes256-cbc', encryptionKey: fromHex('11'.repeat(32)) })
    log.esp({ spi: 0xc3baa9e6, src: '198.18.0.2', dst: '198.18.0.1', encryption: 'aes-cbc-256', encryptionKey: fromHex('22'.repeat(32)), integrity: 'hmac-sha1-96', integrityKey: fromHex('33'.repeat(20)), udp: true })
    log.esp({ spi: 0x00000101, src: '198.18.0.1', dst: '198.18.0.2', encryption: 'aes-gcm16-128', encryptionKey: fromHex('44'.repeat(20)), udp: false })
    assert.deepEqual(errors, [])
    assert.equal(statSync(file).mode & 0o777, 0o600)
    const text = readFileSync(file, 'utf8')
    const lines = text.split('\n').filter((l) => l && !l.startsWith('#'))
    assert.deepEqual(lines, [
      `IKEV1 0001020304050607 08090a0b0c0d0e0f aes256-cbc ${'11'.repeat(32)}`,
      `ESP c3baa9e6 198.18.0.2 198.18.0.1 aes-cbc-256 ${'22'.repeat(32)} hmac-sha1-96 ${'33'.repeat(20)} udp`,
      `ESP 00000101 198.18.0.1 198.18.0.2 aes-gcm16-128 ${'44'.repeat(20)} - - raw`,
    ])
    const m = await load()
    const parsed = m.parseKeyLog(text)
    assert.deepEqual(parsed.errors, [])
    assert.deepEqual(m.tsharkOptions(parsed).slice(3), [
      `uat:esp_sa:"IPv4","*","*","0xc3baa9e6","AES-CBC [RFC3602]","0x${'22'.repeat(32)}","HMAC-SHA-1-96 [RFC2404]","0x${'33'.repeat(20)}"`,
      // RFC 4106 §8.1: the GCM key material is the AES key followed by the 4-byte salt, as tshark wants it.
      `uat:esp_sa:"IPv4","*","*","0x00000101","AES-GCM with 16 octet ICV [RFC4106]","0x${'44'.repeat(20)}","NULL",""`,
      `uat:ikev1_decryption_table:0001020304050607,${'11'.repeat(32)}`,
    ])
    // A damaged line is reported, not guessed at.
    assert.equal(m.parseKeyLog('ESP zz 1 2 aes-cbc-256 00 hmac-sha1-96 00 udp\n').errors.length, 1)
  } finally { rmSync(dir, { recursive: true, force: true }) }
})

test('key log: a file that cannot be written is reported once through onError and never throws', () => {
  const errors: Error[] = []
  const log = openIpsecKeyLog('/nonexistent-dir-gatehouse/keys.log', (e) => errors.push(e))
  log.ike({ ckyI: new Uint8Array(8), ckyR: new Uint8Array(8), cipher: 'aes128-cbc', encryptionKey: new Uint8Array(16) })
  assert.equal(errors.length, 1)
  assert.match(errors[0]!.message, /IPsec key log \/nonexistent-dir-gatehouse\/keys\.log/)
})

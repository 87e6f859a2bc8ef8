// CHAP-MD5 response (RFC 1994 §4.1): MD5 over Identifier || secret || Challenge, checked by choosing
// inputs whose concatenation is an RFC 1321 §A.5 test message.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chapMd5Response } from '../../src/auth/chap-md5.js'
import { toHex, utf8 } from '../../src/lib/bytes.js'

test('response is MD5(id || secret || challenge) (RFC 1321 §A.5 digests)', () => {
  // 'a' (0x61) || "bc" || "" = "abc"
  assert.equal(toHex(chapMd5Response(0x61, utf8('bc'), new Uint8Array(0))), '900150983cd24fb0d6963f7d28e17f72')
  // 'm' (0x6d) || "essage " || "digest" = "message digest"
  assert.equal(toHex(chapMd5Response(0x6d, utf8('essage '), utf8('digest'))), 'f96b697d7cb7938d525a2f31aaf161d0')
})

test('the identifier is one octet: ids differing by 256 give the same response', () => {
  const s = utf8('secret'), c = new Uint8Array(16).fill(7)
  assert.deepEqual(chapMd5Response(0x61 + 256, s, c), chapMd5Response(0x61, s, c))
  assert.notDeepEqual(chapMd5Response(1, s, c), chapMd5Response(2, s, c))
})

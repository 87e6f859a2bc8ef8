// Raw-digest ECDSA (src/ike/v1/crypto/ecdsa-raw.ts) against published vectors: RFC 4754 §8.1 (P-256) and
// §8.2 (P-384) and §8.3 (P-521), which give w, g^w, the ephemeral k, the digest H = SHA-2("abc") and r, s; RFC 6979 A.2.5
// (P-256: deterministic k with SHA-256, and fixed-k signatures over SHA-1/SHA-512 digests, i.e. shorter
// and longer than the order). Vectors as quoted by the RFCs (copied from the RFC text, cross-checked with
// the copies in pyca-style test files found by search). Then node's hashing ECDSA cross-checks ours.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto'
import fc from 'fast-check'
import { fromHex, toHex } from '../../src/lib/bytes.js'
import { P256, P384, P521, deterministicK, publicPoint, signDigest, signDigestWithKey, verifyDigest, verifyDigestWithKey } from '../../src/ike/v1/crypto/ecdsa-raw.js'
import { signAuthHash, verifyAuthHash } from '../../src/ike/v1/crypto/signature.js'
import { OakleyAuth } from '../../src/ike/v1/oakley.js'
import { implementedPhase1 } from '../../src/ike/v1/proposal/select.js'

const big = (s: string): bigint => BigInt('0x' + s)
const sha = (alg: string, s: string): Uint8Array => new Uint8Array(createHash(alg).update(s).digest())

const RFC4754 = [
  {
    section: 'RFC 4754 §8.1 (ECDSA-256)', curve: P256, hash: 'sha256',
    w: 'DC51D3866A15BACDE33D96F992FCA99DA7E6EF0934E7097559C27F1614C88A7F',
    gwx: '2442A5CC0ECD015FA3CA31DC8E2BBC70BF42D60CBCA20085E0822CB04235E970',
    gwy: '6FC98BD7E50211A4A27102FA3549DF79EBCB4BF246B80945CDDFE7D509BBFD7D',
    k: '9E56F509196784D963D1C0A401510EE7ADA3DCC5DEE04B154BF61AF1D5A6DECE',
    h: 'BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD',
    r: 'CB28E0999B9C7715FD0A80D8E47A77079716CBBF917DD72E97566EA1C066957C',
    s: '86FA3BB4E26CAD5BF90B7F81899256CE7594BB1EA0C89212748BFF3B3D5B0315',
  },
  {
    section: 'RFC 4754 §8.2 (ECDSA-384)', curve: P384, hash: 'sha384',
    w: '0BEB646634BA87735D77AE4809A0EBEA865535DE4C1E1DCB692E84708E81A5AF62E528C38B2A81B35309668D73524D9F',
    gwx: '96281BF8DD5E0525CA049C048D345D3082968D10FEDF5C5ACA0C64E6465A97EA5CE10C9DFEC21797415710721F437922',
    gwy: '447688BA94708EB6E2E4D59F6AB6D7EDFF9301D249FE49C33096655F5D502FAD3D383B91C5E7EDAA2B714CC99D5743CA',
    k: 'B4B74E44D71A13D568003D7489908D564C7761E229C58CBFA18950096EB7463B854D7FA992F934D927376285E63414FA',
    h: undefined, // the RFC's H is SHA-384("abc"); computed here
    r: 'FB017B914E29149432D8BAC29A514640B46F53DDAB2C69948084E2930F1C8F7E08E07C9C63F2D21A07DCB56A6AF56EB3',
    s: 'B263A1305E057F984D38726A1B46874109F417BCA112674C528262A40A629AF1CBB9F516CE0FA7D2FF630863A00E8B9F',
  },
  {
    section: 'RFC 4754 §8.3 (ECDSA-521)', curve: P521, hash: 'sha512',
    w: '0065FDA3409451DCAB0A0EAD45495112A3D813C17BFD34BDF8C1209D7DF5849120597779060A7FF9D704ADF78B570FFAD6F062E95C7E0C5D5481C5B153B48B375FA1',
    gwx: '0151518F1AF0F563517EDD5485190DF95A4BF57B5CBA4CF2A9A3F6474725A35F7AFE0A6DDEB8BEDBCD6A197E592D40188901CECD650699C9B5E456AEA5ADD19052A8',
    gwy: '006F3B142EA1BFFF7E2837AD44C9E4FF6D2D34C73184BBAD90026DD5E6E85317D9DF45CAD7803C6C20035B2F3FF63AFF4E1BA64D1C077577DA3F4286C58F0AEAE643',
    k: '00C1C2B305419F5A41344D7E4359933D734096F556197A9B244342B8B62F46F9373778F9DE6B6497B1EF825FF24F42F9B4A4BD7382CFC3378A540B1B7F0C1B956C2F',
    h: undefined, // SHA-512("abc")
    r: '0154FD3836AF92D0DCA57DD5341D3053988534FDE8318FC6AAAAB68E2E6F4339B19F2F281A7E0B22C269D93CF8794A9278880ED7DBB8D9362CAEACEE544320552251',
    s: '017705A7030290D1CEB605A9A1BB03FF9CDD521E87A696EC926C8C10C8362DF4975367101F67D1CF9BCCBF2F3D239534FA509E70AAC851AE01AAC68D62F866472660',
  },
] as const

for (const v of RFC4754) {
  test(`${v.section}: public key, signature with the given k over the given digest, verification`, () => {
    const digest = v.h ? fromHex(v.h) : sha(v.hash, 'abc')
    assert.deepEqual(digest, sha(v.hash, 'abc'))
    const q = publicPoint(v.curve, big(v.w))
    assert.equal(q.x, big(v.gwx)); assert.equal(q.y, big(v.gwy))
    const sig = signDigest(v.curve, big(v.w), digest, big(v.k))
    assert.equal(toHex(sig).toUpperCase(), v.r + v.s)
    assert.equal(verifyDigest(v.curve, q, digest, sig), true)
    const bad = new Uint8Array(sig); bad[bad.length - 1] = bad[bad.length - 1]! ^ 1
    assert.equal(verifyDigest(v.curve, q, digest, bad), false)
    assert.equal(verifyDigest(v.curve, q, digest.slice().reverse(), sig), false)
    assert.equal(verifyDigest(v.curve, { x: q.x, y: q.y + 1n }, digest, sig), false, 'a point off the curve')
    assert.equal(verifyDigest(v.curve, q, digest, sig.subarray(1)), false)
    assert.equal(verifyDigest(v.curve, q, digest, new Uint8Array(sig.length)), false, 'r = s = 0')
  })
}

// RFC 6979 A.2.5: P-256 key x, U = xG.
const X6979 = big('C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721')
test('RFC 6979 A.2.5: the key pair, deterministic k with HMAC-SHA-256 and the signatures (SHA-256, "sample" and "test")', () => {
  const u = publicPoint(P256, X6979)
  assert.equal(u.x, big('60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6'))
  assert.equal(u.y, big('7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299'))
  const cases = [
    ['sample', 'A6E3C57DD01ABE90086538398355DD4C3B17AA873382B0F24D6129493D8AAD60', 'EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716', 'F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8'],
    ['test', 'D16B6AE827F17175E040871A1C7EC3500192C4C92677336EC2537ACAEE0008E0', 'F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367', '019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083'],
  ] as const
  for (const [msg, k, r, s] of cases) {
    const digest = sha('sha256', msg)
    assert.equal(deterministicK(P256, X6979, digest).next().value, big(k), `k for "${msg}"`)
    const sig = signDigest(P256, X6979, digest)
    assert.equal(toHex(sig).toUpperCase(), r + s)
    assert.equal(verifyDigest(P256, u, digest, sig), true)
  }
})

test('RFC 6979 A.2.5 with the given k: a SHA-1 digest (shorter than n) and a SHA-512 digest (truncated to 256 bits)', () => {
  const u = publicPoint(P256, X6979)
  const cases = [
    ['sha1', '882905F1227FD620FBF2ABF21244F0BA83D0DC3A9103DBBEE43A1FB858109DB4', '61340C88C3AAEBEB4F6D667F672CA9759A6CCAA9FA8811313039EE4A35471D32', '6D7F147DAC089441BB2E2FE8F7A3FA264B9C475098FDCF6E00D7C996E1B8B7EB'],
    ['sha512', '5FA81C63109BADB88C1F367B47DA606DA28CAD69AA22C4FE6AD7DF73A7173AA5', '8496A60B5E9B47C825488827E0495B0E3FA109EC4568FD3F8D1097678EB97F00', '2362AB1ADBE2B8ADF9CB9EDAB740EA6049C028114F2460F96554F61FAE3302FE'],
  ] as const
  for (const [alg, k, r, s] of cases) {
    const digest = sha(alg, 'sample')
    const sig = signDigest(P256, X6979, digest, big(k))
    assert.equal(toHex(sig).toUpperCase(), r + s, alg)
    assert.equal(verifyDigest(P256, u, digest, sig), true)
  }
})

for (const [curve, name, hash, len] of [[P256, 'prime256v1', 'sha256', 64], [P384, 'secp384r1', 'sha384', 96], [P521, 'secp521r1', 'sha512', 132]] as const) {
  test(`${curve.name}: node's ECDSA over SHA-2(m) and ours over the digest SHA-2(m) accept each other`, () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: name })
    const m = Buffer.from('IKEv1 HASH_I input')
    const digest = new Uint8Array(createHash(hash).update(m).digest())
    const theirs = new Uint8Array(sign(hash, m, { key: privateKey, dsaEncoding: 'ieee-p1363' }))
    assert.equal(verifyDigestWithKey(publicKey, digest, theirs), true)
    const ours = signDigestWithKey(privateKey, digest)!
    assert.equal(ours.length, len)
    assert.equal(verify(hash, m, { key: publicKey, dsaEncoding: 'ieee-p1363' }, ours), true)
    assert.equal(verifyDigestWithKey(privateKey, digest, ours), true, 'the public half of a private key')
  })
}

test('IKEv1 SIG (methods 9/10/11): HASH_I is the digest itself, not hashed again (strongSwan SIGN_ECDSA_WITH_NULL)', () => {
  const hashI = fromHex('00112233445566778899aabbccddeeff01234567')
  for (const [method, name] of [[OakleyAuth.EcdsaP256Sha256, 'prime256v1'], [OakleyAuth.EcdsaP384Sha384, 'secp384r1'], [OakleyAuth.EcdsaP521Sha512, 'secp521r1']] as const) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: name })
    const sig = signAuthHash(method, privateKey, hashI)
    assert.equal(verifyDigestWithKey(publicKey, hashI, sig), true, 'raw digest')
    assert.equal(verify(name === 'prime256v1' ? 'sha256' : name === 'secp384r1' ? 'sha384' : 'sha512', hashI, { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig), false, 'not a signature over SHA-2(HASH_I)')
    assert.equal(verifyAuthHash(method, publicKey, hashI, sig), true)
    // The method names the curve: a P-256 key cannot sign as method 10, nor verify as it.
    const other = method === OakleyAuth.EcdsaP256Sha256 ? OakleyAuth.EcdsaP384Sha384 : OakleyAuth.EcdsaP256Sha256
    assert.throws(() => signAuthHash(other, privateKey, hashI), RangeError)
    assert.equal(verifyAuthHash(other, publicKey, hashI, sig), false)
  }
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
  assert.equal(verifyDigestWithKey(rsa.publicKey, hashI, new Uint8Array(64)), false)
  assert.equal(signDigestWithKey(rsa.privateKey, hashI), undefined)
})

test('property: verifyDigest never throws on hostile signatures and digests', () => {
  const q = publicPoint(P256, X6979)
  fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 80 }), (sig, digest) => {
    assert.equal(typeof verifyDigest(P256, q, digest, sig), 'boolean')
  }), { numRuns: 200 })
})

test('a responder takes ECDSA methods 9, 10 and 11 (all raw-digest now, all seen working against strongSwan)', () => {
  const t = { encryption: 7, keyLength: 256, hash: 4, group: 14, seconds: 28800 }
  assert.deepEqual([9, 10, 11].map((authMethod) => implementedPhase1({ ...t, authMethod })), [true, true, true])
})

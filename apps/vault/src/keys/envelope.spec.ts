import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  IntegrityError,
  keyCheckValue,
  newKey,
  newMasterKeyText,
  open,
  pack,
  parseMasterKey,
  seal,
  unpack,
  valueAssociatedData,
} from './envelope';

describe('envelope encryption', () => {
  const key = newKey();
  const ad = valueAssociatedData('id-1', 'gh-bot', 'global');

  it('round-trips, with a fresh 96-bit nonce every time', () => {
    const a = seal(key, Buffer.from('value'), ad);
    const b = seal(key, Buffer.from('value'), ad);
    assert.equal(a.nonce.length, 12);
    assert.notDeepEqual(a.nonce, b.nonce);
    assert.notDeepEqual(a.ciphertext, b.ciphertext);
    assert.equal(open(key, a, ad, 'x').toString(), 'value');
    assert.equal(open(key, unpack(pack(a)), ad, 'x').toString(), 'value');
  });

  it('refuses any flipped bit of ciphertext, tag, nonce or associated data, and another key', () => {
    const sealed = seal(key, Buffer.from('some secret value'), ad);
    const flipped = (b: Buffer, bit: number) => {
      const copy = Buffer.from(b);
      copy[bit >> 3]! ^= 1 << (bit & 7);
      return copy;
    };
    for (let bit = 0; bit < 8 * 12; bit += 7) {
      assert.throws(() => open(key, { ...sealed, nonce: flipped(sealed.nonce, bit) }, ad, 'x'), IntegrityError);
    }
    for (let bit = 0; bit < 8 * 16; bit += 5) {
      assert.throws(() => open(key, { ...sealed, tag: flipped(sealed.tag, bit) }, ad, 'x'), IntegrityError);
    }
    for (let bit = 0; bit < 8 * sealed.ciphertext.length; bit += 3) {
      assert.throws(
        () => open(key, { ...sealed, ciphertext: flipped(sealed.ciphertext, bit) }, ad, 'x'),
        IntegrityError,
      );
    }
    for (let bit = 0; bit < 8 * ad.length; bit += 11) {
      assert.throws(() => open(key, sealed, flipped(ad, bit), 'x'), IntegrityError);
    }
    assert.throws(() => open(newKey(), sealed, ad, 'x'), IntegrityError);
    assert.throws(() => open(key, sealed, valueAssociatedData('id-2', 'gh-bot', 'global'), 'x'), IntegrityError);
  });

  it('reads a master key as base64 or hex of exactly 32 bytes, and says what is wrong otherwise', () => {
    const text = newMasterKeyText();
    assert.equal(parseMasterKey(text).key?.length, 32);
    assert.equal(parseMasterKey(`${text}\n`).key?.length, 32);
    assert.equal(parseMasterKey('ab'.repeat(32)).key?.length, 32);
    assert.equal(parseMasterKey(undefined).problem, 'missing');
    assert.equal(parseMasterKey('  ').problem, 'missing');
    assert.equal(parseMasterKey('ab'.repeat(16)).problem, '16 bytes where 32 are needed');
    assert.equal(parseMasterKey('not a key!').problem, 'not base64 or hex');
    assert.notDeepEqual(keyCheckValue(parseMasterKey(text).key!), keyCheckValue(newKey()));
  });
});

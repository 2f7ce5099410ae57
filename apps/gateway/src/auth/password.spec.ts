import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { generatePassword, hashPassword, verifyDecoy, verifyPassword } from './password';

describe('password hashing', () => {
  it('verifies the password it hashed and nothing else', async () => {
    const password = generatePassword();
    const hash = await hashPassword(password);
    assert.match(hash, /^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    assert.ok(!hash.includes(password));
    assert.equal(await verifyPassword(password, hash), true);
    assert.equal(await verifyPassword(`${password}x`, hash), false);
    assert.equal(await verifyPassword('', hash), false);
  });

  it('salts every hash', async () => {
    assert.notEqual(await hashPassword('same password'), await hashPassword('same password'));
  });

  it('never matches a malformed hash, and the decoy never matches', async () => {
    assert.equal(await verifyPassword('x', 'plain'), false);
    assert.equal(await verifyPassword('x', 'scrypt$1$2$3'), false);
    assert.equal(await verifyDecoy('anything'), false);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { nameFromRemote, withoutCredentials } from './checkouts.service';

describe('checkout remotes', () => {
  it('drops a credential from an https remote and keeps others as they are', () => {
    assert.equal(withoutCredentials('https://tok:x@github.com/acme/api.git'), 'https://github.com/acme/api.git');
    assert.equal(withoutCredentials('git@github.com:acme/api.git'), 'git@github.com:acme/api.git');
    assert.equal(withoutCredentials('/srv/git/api'), '/srv/git/api');
  });

  it('names a project after its repository', () => {
    assert.equal(nameFromRemote('https://github.com/acme/api.git'), 'api');
    assert.equal(nameFromRemote('git@github.com:acme/web'), 'web');
    assert.equal(nameFromRemote('file:///srv/git/tools.git/'), 'tools');
  });
});

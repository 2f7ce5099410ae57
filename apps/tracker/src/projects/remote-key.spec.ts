import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { githubRepoOf, keyFromName, remoteKey } from './remote-key';

describe('remoteKey', () => {
  it('spells one GitHub repository one way however it was written', () => {
    const forms = [
      'acme/api',
      'https://github.com/acme/api.git',
      'https://github.com/Acme/API',
      'git@github.com:acme/api.git',
      'ssh://git@github.com/acme/api',
      'https://x-access-token:secret@github.com/acme/api.git',
    ];
    for (const form of forms) {
      assert.equal(remoteKey(form), 'github.com/acme/api', form);
    }
  });

  it('keeps other hosts and local paths apart', () => {
    assert.equal(remoteKey('https://gitlab.example/team/app.git'), 'gitlab.example/team/app');
    assert.equal(remoteKey('file:///srv/git/app.git'), 'file/srv/git/app');
    assert.notEqual(remoteKey('https://gitlab.example/acme/api'), remoteKey('acme/api'));
  });
});

describe('githubRepoOf', () => {
  it('finds owner/name only for GitHub remotes', () => {
    assert.equal(githubRepoOf('acme/api'), 'acme/api');
    assert.equal(githubRepoOf('git@github.com:Acme/Api.git'), 'Acme/Api');
    assert.equal(githubRepoOf('https://gitlab.example/acme/api'), undefined);
    assert.equal(githubRepoOf(null), undefined);
  });
});

describe('keyFromName', () => {
  it('makes a key the pattern accepts', () => {
    assert.equal(keyFromName('Public API'), 'public-api');
    assert.equal(keyFromName('Ünïcode — déjà vu!'), 'unicode-deja-vu');
    assert.equal(keyFromName('***'), 'project');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { branchName, gitAuthEnv } from './github-issue-work';

describe('github-issue work', () => {
  it('names the branch after the issue: waggle/N-slug', () => {
    assert.equal(branchName(12, 'Fix the Login page!'), 'waggle/12-fix-the-login-page');
    assert.equal(branchName(3, 'Ünïcode — and   spaces'), 'waggle/3-unicode-and-spaces');
    assert.equal(branchName(7, '!!!'), 'waggle/7');
    assert.ok(branchName(1, 'a'.repeat(200)).length <= 'waggle/1-'.length + 40);
  });

  it('gives git the token in the environment, for the clone URL host only, never for other transports', () => {
    const env = gitAuthEnv('https://github.example.com/acme/widgets.git', 'ghp_secret');
    assert.equal(env.GIT_CONFIG_KEY_0, 'http.https://github.example.com/.extraheader');
    assert.equal(
      env.GIT_CONFIG_VALUE_0,
      `AUTHORIZATION: basic ${Buffer.from('x-access-token:ghp_secret').toString('base64')}`,
    );
    assert.deepEqual(gitAuthEnv('file:///srv/git/acme/widgets.git', 'ghp_secret'), {});
  });
});

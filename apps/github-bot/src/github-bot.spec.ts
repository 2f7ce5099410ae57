import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { SecretBox } from './infrastructure/secret-box';
import { issuePrompt, taskShape } from './links/intake.service';
import { redactSecrets } from './sync/outcome-text';
import { signatureMatches } from './webhooks/webhook.service';

describe('github-bot', () => {
  it('accepts only the HMAC-SHA256 of the exact body under the secret', () => {
    const body = '{"action":"opened"}';
    const good = `sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`;
    assert.equal(signatureMatches('s3cret', body, good), true);
    assert.equal(signatureMatches('other', body, good), false);
    assert.equal(signatureMatches('s3cret', `${body} `, good), false);
    assert.equal(signatureMatches('s3cret', body, undefined), false);
    assert.equal(signatureMatches('s3cret', body, good.replace('sha256=', 'sha1=')), false);
    assert.equal(signatureMatches('s3cret', body, good.slice(0, -2)), false);
  });

  it('seals webhook secrets so only its key opens them', () => {
    const key = randomBytes(32).toString('base64');
    const sealed = new SecretBox(key).seal('the secret');
    assert.ok(!sealed.includes('the secret'));
    assert.equal(new SecretBox(key).open(sealed), 'the secret');
    assert.throws(() => new SecretBox(randomBytes(32).toString('base64')).open(sealed));
  });

  it('maps issue labels to requirements, the agent CLI and the mode', () => {
    const shape = taskShape({ defaults: { capabilities: ['docker'], cli: 'codex' } }, [
      'waggle',
      'needs:gpu',
      'Agent:Claude',
      'mode:follow-up',
      'agent:unknown',
    ]);
    assert.deepEqual(shape, { capabilities: ['docker', 'gpu'], cli: 'claude', mode: 'follow_up' });
    assert.deepEqual(taskShape({ defaults: {} }, ['waggle']), {
      capabilities: [],
      cli: undefined,
      mode: 'pull_request',
    });
  });

  it("builds the prompt from the issue's title, body and comments", () => {
    const prompt = issuePrompt(
      'acme/api',
      { number: 4, title: 'Crash on start', body: 'It crashes.' },
      [{ user: 'bob', at: '2026-01-01', body: 'Me too' }],
      'pull_request',
    );
    assert.match(
      prompt,
      /^GitHub issue #4 in acme\/api: Crash on start\n\nIt crashes\.\n\nComments:\n\n@bob \(2026-01-01\):\nMe too\n\nMake the change/,
    );
  });

  it('redacts anything that looks like a GitHub token, and the given secrets', () => {
    const text = redactSecrets(
      'a ghp_0123456789abcdefghijABCDEFGHIJ b github_pat_11AAAAAAA0123456789_abcdefghij c xyz',
      ['xyz'],
    );
    assert.equal(text, 'a [redacted] b [redacted] c [redacted]');
  });
});

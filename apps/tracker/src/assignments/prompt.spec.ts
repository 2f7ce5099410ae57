import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { itemPrompt } from './prompt';

const project = { name: 'Widgets', repository: 'acme/widgets', defaultBranch: 'main', description: 'Makes widgets.' };

describe('itemPrompt', () => {
  it('carries the feature spec, the comments and the delivery instruction', () => {
    const text = itemPrompt(
      project,
      {
        kind: 'feature',
        ref: 'feature-7',
        title: 'Export as CSV',
        body: '## Spec\nA button that downloads the table.',
        steps: null,
        environment: null,
        severity: null,
        priority: 'high',
      },
      [{ author: 'alice', at: '2026-11-29T10:00:00.000Z', body: 'Semicolons, please.' }],
    );
    assert.match(text, /^Feature feature-7 of the project Widgets \(acme\/widgets, branch main\): Export as CSV/);
    assert.match(text, /A button that downloads the table\./);
    assert.match(text, /alice \(2026-11-29T10:00:00.000Z\):\nSemicolons, please\./);
    assert.match(text, /Do not push/);
  });

  it("carries a bug's steps and environment", () => {
    const text = itemPrompt(
      project,
      {
        kind: 'bug',
        ref: 'bug-3',
        title: 'Crash on empty input',
        body: 'It crashes.',
        steps: '1. open\n2. submit empty',
        environment: 'Firefox 130',
        severity: 'critical',
        priority: 'urgent',
      },
      [],
    );
    assert.match(text, /Severity: critical/);
    assert.match(text, /Steps to reproduce:\n1\. open/);
    assert.match(text, /Environment:\nFirefox 130/);
    assert.doesNotMatch(text, /Comments:/);
  });

  it('is cut to what a task takes', () => {
    const text = itemPrompt(
      project,
      {
        kind: 'feature',
        ref: 'feature-1',
        title: 'Big',
        body: 'x'.repeat(300_000),
        steps: null,
        environment: null,
        severity: null,
        priority: 'low',
      },
      [],
    );
    assert.ok(text.length <= 200_000);
    assert.match(text, /\[…cut\]$/);
  });
});

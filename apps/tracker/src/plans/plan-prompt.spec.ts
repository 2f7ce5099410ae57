import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ErrorCode, WaggleError } from '@waggle/contracts';

import { parsePlan, planMessages } from './plan-prompt';

describe('plan prompt', () => {
  it('gives the model the README, the TODOs and the open bugs', () => {
    const [system, user] = planMessages({
      project: { name: 'Widgets', description: 'Makes widgets', repository: 'acme/widgets' },
      readme: '# Widgets\nThey spin.',
      todos: ['src/a.ts:3: // TODO: cache it'],
      openBugs: [{ ref: 'bug-2', title: 'Wobbles', severity: 'major' }],
      milestone: 'speed',
      maxFeatures: 4,
    });
    assert.match(system!.content, /at most 4 features/);
    assert.match(user!.content, /They spin\./);
    assert.match(user!.content, /src\/a\.ts:3: \/\/ TODO: cache it/);
    assert.match(user!.content, /bug-2 \[major\] Wobbles/);
    assert.match(user!.content, /about: speed/);
  });

  it('reads the plan out of a fenced answer, with defaults and a cut', () => {
    const plan = parsePlan(
      'Here you go:\n```json\n{"milestone":{"title":"Fast"},"features":[{"title":"A","priority":"high","extra":1},{"title":"B"},{"title":"C"}]}\n```',
      2,
    );
    assert.deepEqual(plan, {
      milestone: { title: 'Fast', description: '' },
      features: [
        { title: 'A', spec: '', priority: 'high' },
        { title: 'B', spec: '', priority: 'medium' },
      ],
    });
  });

  it('refuses an answer that is no plan', () => {
    for (const answer of [
      'no idea',
      '{"milestone":{"title":""},"features":[]}',
      '{"milestone":{"title":"x"},"features":[{"priority":"now"}]}',
    ]) {
      assert.throws(
        () => parsePlan(answer, 5),
        (e: unknown) => e instanceof WaggleError && e.code === ErrorCode.InvalidInput,
        answer,
      );
    }
  });
});

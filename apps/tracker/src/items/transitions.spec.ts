import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ErrorCode, WaggleError } from '@waggle/contracts';

import { assignable, checkTransition, reviewStatusOf } from './transitions';

const codeOf = (fn: () => void) => {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof WaggleError);
    return { code: error.code, message: error.message };
  }
  return undefined;
};

describe('work item transitions', () => {
  it('lets a feature walk its workflow one step at a time', () => {
    for (const [from, to] of [
      ['proposed', 'planned'],
      ['planned', 'in_progress'],
      ['in_progress', 'review'],
      ['review', 'done'],
      ['done', 'in_progress'],
    ] as const) {
      assert.equal(
        codeOf(() => checkTransition('feature', from, to)),
        undefined,
        `${from} → ${to}`,
      );
    }
  });

  it('refuses a skipped step with the allowed moves in the reason', () => {
    const refused = codeOf(() => checkTransition('feature', 'proposed', 'done'));
    assert.equal(refused?.code, ErrorCode.Conflict);
    assert.match(refused.message, /from proposed to done.*planned, in_progress/);
    assert.equal(codeOf(() => checkTransition('bug', 'open', 'verified'))?.code, ErrorCode.Conflict);
  });

  it("refuses the other kind's status as invalid input", () => {
    assert.equal(codeOf(() => checkTransition('bug', 'open', 'review'))?.code, ErrorCode.InvalidInput);
    assert.equal(codeOf(() => checkTransition('feature', 'planned', 'fixed'))?.code, ErrorCode.InvalidInput);
  });

  it("lets a bug be closed as won't fix from any open status, and reopened", () => {
    for (const from of ['open', 'triaged', 'in_progress'] as const) {
      assert.equal(
        codeOf(() => checkTransition('bug', from, 'wont_fix')),
        undefined,
      );
    }
    assert.equal(
      codeOf(() => checkTransition('bug', 'wont_fix', 'open')),
      undefined,
    );
  });

  it('hands out only unfinished work, and names the review status per kind', () => {
    assert.equal(assignable('feature', 'planned'), true);
    assert.equal(assignable('feature', 'done'), false);
    assert.equal(assignable('bug', 'verified'), false);
    assert.equal(reviewStatusOf('feature'), 'review');
    assert.equal(reviewStatusOf('bug'), 'fixed');
  });
});

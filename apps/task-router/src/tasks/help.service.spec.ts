import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { chooseOffer } from './help.service';

const answer = (name: string, accept: boolean, etaSeconds: number | null) => ({
  machineId: `id-${name}`,
  name,
  accept,
  etaSeconds,
});

describe('chooseOffer', () => {
  it('takes the offer that starts soonest, the earliest answer on a tie', () => {
    const answers = [
      answer('busy', true, 120),
      answer('free', true, 0),
      answer('also-free', true, 0),
      answer('no', false, null),
    ];
    assert.equal(chooseOffer(answers, 600)?.name, 'free');
  });

  it('takes a busy peer when it is the only one, within the limit', () => {
    assert.equal(chooseOffer([answer('busy', true, 120), answer('no', false, 0)], 600)?.name, 'busy');
    assert.equal(chooseOffer([answer('busy', true, 120)], 60), undefined);
  });

  it('takes nothing when every peer declined', () => {
    assert.equal(chooseOffer([answer('a', false, 0), answer('b', false, null)], 600), undefined);
    assert.equal(chooseOffer([], 600), undefined);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parsePrices, PriceTable } from './pricing';

describe('PriceTable', () => {
  const table = new PriceTable(parsePrices('{"my-model": {"input": 2, "output": 4}}'));
  const cloud = { local: false };

  it('turns tokens into dollars per million', () => {
    assert.deepEqual(table.cost(cloud, 'claude-sonnet-4-5', { inputTokens: 1_000_000, outputTokens: 1_000_000 }), {
      usd: 18,
      priced: true,
    });
    assert.equal(
      table.cost(cloud, 'my-model', { inputTokens: 500, outputTokens: 250 }).usd,
      (500 * 2 + 250 * 4) / 1_000_000,
    );
  });

  it('prices a dated model id like its family, a local provider at 0, an unknown model as unpriced', () => {
    assert.equal(table.cost(cloud, 'claude-haiku-4-5-20251001', { inputTokens: 1_000_000, outputTokens: 0 }).usd, 1);
    assert.deepEqual(table.cost({ local: true }, 'claude-sonnet-4-5', { inputTokens: 10, outputTokens: 10 }), {
      usd: 0,
      priced: true,
    });
    assert.deepEqual(table.cost(cloud, 'mystery', { inputTokens: 10, outputTokens: 10 }), { usd: 0, priced: false });
  });

  it('refuses a malformed price table with the entry at fault', () => {
    assert.throws(() => parsePrices('{"x": {"input": "3"}}'), /x needs non-negative numbers/);
    assert.throws(() => parsePrices('nope'), /must be JSON/);
  });
});

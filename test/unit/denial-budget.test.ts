import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DenialBudget } from '../../daemon/audit/denial-budget';

describe('refusal audit budget', () => {
  it('records a burst, then one per refill period, and says how many were not recorded', () => {
    const budget = new DenialBudget({ burst: 3, refillMs: 1000 });
    const taken = [0, 1, 2, 3, 4].map(() => budget.take(7, 0));
    assert.deepEqual(taken, [
      { record: true, suppressed: 0 },
      { record: true, suppressed: 0 },
      { record: true, suppressed: 0 },
      { record: false },
      { record: false },
    ]);
    assert.deepEqual(budget.take(7, 999), { record: false });
    assert.deepEqual(budget.take(7, 1000), { record: true, suppressed: 3 });
    assert.deepEqual(budget.take(7, 1001), { record: false });
  });

  it('keeps users apart: one user flooding leaves another’s refusals recorded', () => {
    const budget = new DenialBudget({ burst: 2, refillMs: 60_000 });
    for (let i = 0; i < 100; i++) budget.take(1000, i);
    assert.deepEqual(budget.take(1001, 100), { record: true, suppressed: 0 });
  });

  it('refills up to the burst only', () => {
    const budget = new DenialBudget({ burst: 2, refillMs: 10 });
    budget.take(1, 0);
    budget.take(1, 0);
    const later = [0, 1, 2].map(() => budget.take(1, 1_000_000));
    assert.deepEqual(later, [{ record: true, suppressed: 0 }, { record: true, suppressed: 0 }, { record: false }]);
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SEEDED_POLICIES } from '../retention/policies.ts';
import { schedulesForPolicy } from './policy.ts';

describe('schedulesForPolicy', () => {
  it('the seeded plans', () => {
    assert.deepEqual(schedulesForPolicy(SEEDED_POLICIES.basic), []);
    assert.deepEqual(schedulesForPolicy(SEEDED_POLICIES.advanced), [{ scheduleType: 'monthly', storageTier: 'b2_cold' }]);
    assert.deepEqual(schedulesForPolicy(SEEDED_POLICIES.premium), [
      { scheduleType: 'daily', storageTier: 's3_standard' },
      { scheduleType: 'weekly', storageTier: 's3_ia' },
      { scheduleType: 'monthly', storageTier: 'b2_cold' },
    ]);
  });

  it('any window > 0 makes a schedule', () => {
    assert.deepEqual(schedulesForPolicy({ dailyRetentionDays: 1, weeklyRetentionWeeks: 0, monthlyRetentionMonths: 0 }), [
      { scheduleType: 'daily', storageTier: 's3_standard' },
    ]);
  });
});

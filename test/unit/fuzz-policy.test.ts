import { describe } from 'node:test';
import { fuzzTest } from '../fuzz/node-test';
import { POLICY, POLICY_PROBLEM_LINES } from '../fuzz/properties';

describe('fuzzing the policy file loader (fast-check, fixed seed)', () => {
  fuzzTest(POLICY);
  fuzzTest(POLICY_PROBLEM_LINES);
});

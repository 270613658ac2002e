import { describe } from 'node:test';
import { fuzzTest } from '../fuzz/node-test';
import { STATUS_RECORD } from '../fuzz/properties';

describe('fuzzing the helper status record parser (fast-check, fixed seed)', () => {
  fuzzTest(STATUS_RECORD);
});

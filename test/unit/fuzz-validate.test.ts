import { describe } from 'node:test';
import { fuzzTest } from '../fuzz/node-test';
import { VALIDATE_SPAWN } from '../fuzz/properties';

describe('fuzzing spawn request validation (fast-check, fixed seed)', () => {
  fuzzTest(VALIDATE_SPAWN);
});

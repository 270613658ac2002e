import { describe } from 'node:test';
import { fuzzTest } from '../fuzz/node-test';
import { DECODE_PACKET, DECODE_SPAWN } from '../fuzz/properties';

describe('fuzzing the frame decoder (fast-check, fixed seed)', () => {
  fuzzTest(DECODE_PACKET);
  fuzzTest(DECODE_SPAWN);
});

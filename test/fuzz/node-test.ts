// The fuzz properties as node:test cases: a fixed seed (FUZZ_SEED to replay another) and each property's unit run
// count, a `# fuzz: NAME N runs ...` diagnostic line for CI logs, and a coarse bound on heap growth.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { describeOutcome, type FuzzProperty } from './harness';

const UNIT_SEED = Number(process.env['FUZZ_SEED'] ?? 0x6a6169);
/** A guard for slow machines: past this a property stops early, and its diagnostic says `[time limit]`. */
const TIME_LIMIT_MS = 30_000;
/** No unbounded allocation: the heap may not grow by more than this during a property's runs. */
const HEAP_BUDGET_BYTES = 200 * 1024 * 1024;

/** A property with a known failure runs as `todo`, its counterexample in the reason, until the code is fixed. */
export function fuzzTest(property: FuzzProperty): void {
  it(`${property.name}: ${property.title}`, { todo: property.knownFailure ?? false }, (t) => {
    const outcome = property.run({ seed: UNIT_SEED, numRuns: property.unitRuns, timeLimitMs: TIME_LIMIT_MS });
    t.diagnostic(`fuzz: ${describeOutcome(outcome)}`);
    if (outcome.failure !== null) assert.fail(`${property.name} (seed ${UNIT_SEED}):\n${outcome.failure}`);
    assert.ok(
      outcome.heapGrowthBytes < HEAP_BUDGET_BYTES,
      `the heap grew by ${outcome.heapGrowthBytes} bytes during ${outcome.runs} runs`,
    );
  });
}

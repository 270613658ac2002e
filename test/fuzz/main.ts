// `npm run fuzz [-- NAME...]`: the fuzz properties of the unit tests without their bound. Round after round with a
// fresh seed each, until Ctrl-C (or FUZZ_RUNS runs of each property), printing runs/s; the first failure prints
// fast-check's report (seed, path, shrunk counterexample) and exits 1. Replay one with FUZZ_SEED=<seed> npm test.
import { randomInt } from 'node:crypto';
import { describeOutcome, type FuzzProperty } from './harness';
import { ALL_PROPERTIES } from './properties';

const MB = 1024 * 1024;
/** A property may not grow the heap by more than this in one round. */
const HEAP_BUDGET_BYTES = 200 * MB;

function parseRuns(text: string | undefined): number | null {
  if (text === undefined || text === '') return Infinity;
  return /^\d+$/.test(text) && Number(text) > 0 ? Number(text) : null;
}

async function main(): Promise<number> {
  const names = process.argv.slice(2);
  const unknown = names.filter((n) => !ALL_PROPERTIES.some((p) => p.name === n));
  const limit = parseRuns(process.env['FUZZ_RUNS']);
  if (unknown.length > 0 || limit === null) {
    console.error(`usage: npm run fuzz [-- NAME...]   (FUZZ_RUNS=N: stop after N runs of each)`);
    console.error(`properties: ${ALL_PROPERTIES.map((p) => p.name).join(', ')}`);
    return 2;
  }
  // Properties with a known failure stop every round at once: only when named.
  const chosen: readonly FuzzProperty[] =
    names.length === 0
      ? ALL_PROPERTIES.filter((p) => p.knownFailure === null)
      : ALL_PROPERTIES.filter((p) => names.includes(p.name));

  // Set by SIGINT. The properties run synchronously: Ctrl-C is seen between rounds (a few seconds at most).
  const stop = { requested: false };
  process.on('SIGINT', () => {
    if (stop.requested) process.kill(process.pid, 'SIGKILL');
    stop.requested = true;
    console.log('interrupted: finishing the current round (Ctrl-C again to kill)');
  });

  const totals = new Map(chosen.map((p) => [p.name, { runs: 0, seconds: 0 }]));
  const printTotals = (): void => {
    console.log('\ntotals:');
    for (const [name, { runs, seconds }] of totals)
      console.log(`  ${name}: ${runs} runs in ${seconds.toFixed(1)} s (${Math.round(runs / seconds)} runs/s)`);
  };
  for (;;) {
    const pending = chosen.filter((p) => (totals.get(p.name)?.runs ?? 0) < limit);
    if (pending.length === 0) break;
    for (const property of pending) {
      const total = totals.get(property.name) ?? { runs: 0, seconds: 0 };
      const seed = randomInt(2 ** 31 - 1);
      const outcome = property.run({ seed, numRuns: Math.min(limit - total.runs, property.unitRuns) });
      total.runs += outcome.runs;
      total.seconds += outcome.seconds;
      console.log(describeOutcome(outcome));
      const problem =
        outcome.failure ??
        (outcome.heapGrowthBytes > HEAP_BUDGET_BYTES ? `the heap grew by ${outcome.heapGrowthBytes} bytes` : null);
      if (problem !== null) {
        console.log(`\n${property.name} FAILED (seed ${seed}):\n${problem}`);
        printTotals();
        return 1;
      }
      // Let a pending SIGINT be handled.
      await new Promise((resolve) => setImmediate(resolve));
      if (stop.requested) {
        printTotals();
        return 0;
      }
    }
  }
  printTotals();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);

// Runs one fuzz property with fast-check: a fixed seed and run count in the unit tests, fresh seeds in `npm run fuzz`.
// Counts what the runs exercised (each check returns a label) and samples the heap, so an input that makes a parser
// allocate without bound shows as a failure even when nothing throws.
import fc from 'fast-check';

export interface FuzzOptions {
  seed: number;
  numRuns: number;
  /** Stop early (and say so) past this; the runs done so far still count. */
  timeLimitMs?: number;
}

export interface FuzzOutcome {
  name: string;
  seed: number;
  runs: number;
  seconds: number;
  interrupted: boolean;
  /** fast-check's report (seed, path, shrunk counterexample, error), or null when the property held. */
  failure: string | null;
  /** How many runs ended with each label (e.g. `refused`, `spawn accepted`). */
  labels: Record<string, number>;
  /** Highest heap and RSS seen during the run, over what they were before it. */
  heapGrowthBytes: number;
  rssGrowthBytes: number;
}

export interface FuzzProperty {
  name: string;
  /** What it proves, for the test name and docs/fuzzing.md. */
  title: string;
  /** Runs in the unit test (and per round of `npm run fuzz`): 1-4 s each. */
  unitRuns: number;
  /** A failure already reported against the code under test, with its counterexample: the unit test is `todo`. */
  knownFailure: string | null;
  run(options: FuzzOptions): FuzzOutcome;
}

export interface FuzzPropertySpec<T> {
  name: string;
  title: string;
  unitRuns: number;
  arbitrary: fc.Arbitrary<T>;
  /** Throws (node:assert) when the property does not hold, else names what the run exercised. */
  check: (value: T) => string;
  knownFailure?: string;
}

/** Heap and RSS are read every this many runs: cheap enough, and often enough to catch a balloon. */
const SAMPLE_EVERY = 32;

export function fuzzProperty<T>(spec: FuzzPropertySpec<T>): FuzzProperty {
  const { name, title, unitRuns, arbitrary, check } = spec;
  return {
    name,
    title,
    unitRuns,
    knownFailure: spec.knownFailure ?? null,
    run(options) {
      const labels: Record<string, number> = {};
      const before = process.memoryUsage();
      let heapPeak = before.heapUsed;
      let rssPeak = before.rss;
      let calls = 0;
      const property = fc.property(arbitrary, (value) => {
        const label = check(value);
        labels[label] = (labels[label] ?? 0) + 1;
        if (++calls % SAMPLE_EVERY === 0) {
          const now = process.memoryUsage();
          heapPeak = Math.max(heapPeak, now.heapUsed);
          rssPeak = Math.max(rssPeak, now.rss);
        }
      });
      const plugins = options.timeLimitMs === undefined ? [] : [fc.interruptAfterTimeLimit(options.timeLimitMs)];
      const started = process.hrtime.bigint();
      const details = fc.check(property, { seed: options.seed, numRuns: options.numRuns, plugins });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const after = process.memoryUsage();
      return {
        name,
        seed: options.seed,
        runs: details.numRuns,
        seconds,
        interrupted: details.interrupted,
        failure: details.failed ? failureReport(details) : null,
        labels,
        heapGrowthBytes: Math.max(heapPeak, after.heapUsed) - before.heapUsed,
        rssGrowthBytes: Math.max(rssPeak, after.rss) - before.rss,
      };
    },
  };
}

/** fast-check's report, then the assertion that failed (the report names only the counterexample). */
function failureReport<T>(details: fc.RunDetails<T>): string {
  const report = fc.defaultReportMessage(details) ?? 'failed';
  const error = details.errorInstance;
  return error instanceof Error ? `${report}\n\n${error.stack ?? error.message}` : report;
}

const MB = 1024 * 1024;

/** One line for logs: `NAME N runs in S s (R runs/s), seed X, heap +H MB; label n, ...`. */
export function describeOutcome(o: FuzzOutcome): string {
  const labels = Object.entries(o.labels)
    .sort(([, a], [, b]) => b - a)
    .map(([label, n]) => `${label} ${n}`)
    .join(', ');
  return (
    `${o.name} ${o.runs} runs in ${o.seconds.toFixed(2)} s (${Math.round(o.runs / o.seconds)} runs/s)` +
    `${o.interrupted ? ' [time limit]' : ''}, seed ${o.seed}, heap +${Math.round(o.heapGrowthBytes / MB)} MB, ` +
    `rss +${Math.round(o.rssGrowthBytes / MB)} MB; ${labels}`
  );
}

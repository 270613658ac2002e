// The load test's client: run as one unprivileged user (by test/security/load.test.ts), it starts COUNT sessions of
// `true` through the client library, at most CONCURRENCY at once, and prints one JSON line: how many succeeded, the
// failures (first few messages), and each session's spawn latency (request to Started) and total time, in ms.
// Usage: node load-worker.js COUNT CONCURRENCY [MODE]
import { spawn, type Mode } from '../../client/sdk/spawn';

interface Result {
  ok: number;
  failed: number;
  errors: string[];
  spawnMs: number[];
  totalMs: number[];
}

async function one(mode: Mode, result: Result): Promise<void> {
  const t0 = process.hrtime.bigint();
  try {
    const session = await spawn({
      argv: ['true'],
      mode,
      env: { PATH: '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/' },
      stdio: [{ kind: 'null' }, { kind: 'null' }, { kind: 'null' }],
    });
    const t1 = process.hrtime.bigint();
    const status = await session.wait();
    const t2 = process.hrtime.bigint();
    if (status.code !== 0) throw new Error(`exit ${JSON.stringify(status)}`);
    result.ok++;
    result.spawnMs.push(Number(t1 - t0) / 1e6);
    result.totalMs.push(Number(t2 - t0) / 1e6);
  } catch (e) {
    result.failed++;
    if (result.errors.length < 5) result.errors.push(e instanceof Error ? e.message : String(e));
  }
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 0);
  const concurrency = Math.max(1, Number(process.argv[3] ?? 1));
  const mode = (process.argv[4] ?? 'casual') as Mode;
  const result: Result = { ok: 0, failed: 0, errors: [], spawnMs: [], totalMs: [] };
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      next++;
      await one(mode, result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

void main();

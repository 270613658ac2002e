// What the benches share: order statistics, running commands with wall-clock timing, and the daemon's own spawn
// timings read from its /metrics histograms. No side effects at import.
import { spawn, type SpawnOptions } from 'node:child_process';
import { adminRequest } from '../test/helpers/admin-request';
import { parsePrometheus, sampleValue, type Sample } from '../test/helpers/prometheus';

/** The q-quantile of sorted values (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

export const median = (values: readonly number[]): number =>
  quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );

/**
 * Wall time (ms) of one run; rejects unless it exits 0. Asynchronous on purpose: the fixture reads jaid's log from a
 * pipe on this process's event loop, and a bench blocked in spawnSync would let that pipe fill until jaid itself
 * blocks on its next log line.
 */
export function timeOnce(command: string, args: readonly string[], options: SpawnOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], ...options });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const t1 = process.hrtime.bigint();
      if (code === 0) resolve(Number(t1 - t0) / 1e6);
      else
        reject(
          new Error(`${command} ${args.join(' ')} exited ${String(code ?? signal)}: ${stderr.trim().slice(0, 2000)}`),
        );
    });
  });
}

export interface Command {
  name: string;
  command: string;
  args: readonly string[];
  options: SpawnOptions;
}

/**
 * Runs every command `runs` times, round-robin (each round runs each command once), so that a load that comes and
 * goes on the machine weighs on all of them alike. Returns each command's times, sorted.
 */
export async function timeRoundRobin(commands: readonly Command[], runs: number): Promise<Map<string, number[]>> {
  const times = new Map(commands.map((c) => [c.name, [] as number[]]));
  for (let i = 0; i < runs; i++)
    for (const c of commands) times.get(c.name)?.push(await timeOnce(c.command, c.args, c.options));
  for (const list of times.values()) list.sort((a, b) => a - b);
  return times;
}

export function fmt(ms: number, width = 8): string {
  return (Number.isFinite(ms) ? ms.toFixed(2) : '-').padStart(width);
}

/** jaid's /metrics, parsed (strictly: see test/helpers/prometheus.ts). */
export function readMetrics(adminSocket: string): Sample[] {
  const r = adminRequest(adminSocket, 'GET', '/metrics');
  if (r.status !== 200) throw new Error(`GET /metrics: ${r.status} ${r.body}`);
  return parsePrometheus(r.body);
}

export interface HistogramDelta {
  count: number;
  /** Mean in ms. */
  mean: number;
  /** Quantile in ms, interpolated linearly within its bucket (as Prometheus' histogram_quantile does). */
  quantile(q: number): number;
}

/** What a histogram counted between two scrapes. */
export function histogramDelta(before: readonly Sample[], after: readonly Sample[], name: string): HistogramDelta {
  const value = (samples: readonly Sample[], n: string, labels: Record<string, string> = {}): number =>
    sampleValue(samples, n, labels) ?? 0;
  const count = value(after, `${name}_count`) - value(before, `${name}_count`);
  const sum = value(after, `${name}_sum`) - value(before, `${name}_sum`);
  const buckets = after
    .filter((s) => s.name === `${name}_bucket`)
    .map((s) => {
      const le = s.labels['le'] ?? '+Inf';
      return { le: le === '+Inf' ? Infinity : Number(le), n: s.value - value(before, `${name}_bucket`, { le }) };
    })
    .sort((a, b) => a.le - b.le);
  return {
    count,
    mean: count > 0 ? (sum / count) * 1000 : NaN,
    quantile(q: number): number {
      if (count === 0) return NaN;
      const rank = q * count;
      let lower = 0;
      let below = 0;
      for (const b of buckets) {
        if (b.n >= rank) {
          if (b.le === Infinity) return lower * 1000; // beyond the last bound: its lower edge, as Prometheus does
          const inBucket = b.n - below;
          return (lower + (b.le - lower) * (inBucket > 0 ? (rank - below) / inBucket : 1)) * 1000;
        }
        lower = b.le;
        below = b.n;
      }
      return NaN;
    },
  };
}

/** jaid's spawn-path histograms, as the benches print them. */
const DAEMON_HISTOGRAMS = [
  ['jai_spawn_admit_seconds', 'request → helper started'],
  ['jai_spawn_duration_seconds', 'request → program started'],
  ['jai_spawn_report_seconds', 'end seen → exit reported'],
  ['jai_session_seconds', 'request → exit reported'],
  ['jai_audit_sync_seconds', 'start row committed → synced'],
] as const;

/** The daemon-side timings between two /metrics reads, and its own work per spawn against the target. */
export function printDaemonSide(title: string, before: Sample[], after: Sample[]): void {
  console.log(`\ndaemon-side, ${title}`);
  console.log(`${'histogram'.padEnd(30)} ${'what'.padEnd(30)}    count  mean ms   p50 ms   p95 ms`);
  for (const [name, what] of DAEMON_HISTOGRAMS) {
    const h = histogramDelta(before, after, name);
    console.log(
      `${name.padEnd(30)} ${what.padEnd(30)} ${String(h.count).padStart(8)} ${fmt(h.mean)} ${fmt(h.quantile(0.5))} ${fmt(h.quantile(0.95))}`,
    );
  }
  const admit = histogramDelta(before, after, 'jai_spawn_admit_seconds');
  const report = histogramDelta(before, after, 'jai_spawn_report_seconds');
  console.log(
    `daemon's own work per spawn (admit + report): mean ${fmt(admit.mean + report.mean, 0)} ms, ` +
      `p50 ${fmt(admit.quantile(0.5) + report.quantile(0.5), 0)} ms (target ≤ 3 ms median)`,
  );
}

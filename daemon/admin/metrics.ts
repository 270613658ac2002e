// The daemon's counters, rendered in the Prometheus text exposition format 0.0.4 for GET /metrics.
import type { Mode } from '../server/validate';
import type { LimitsStatus } from './context';

/** Every mode once; a Record so that a new Mode fails to compile until it is listed here. */
const MODE_SET: Record<Mode, true> = { casual: true, strict: true, bare: true };
export const MODES = Object.keys(MODE_SET) as Mode[];

/**
 * Upper bounds (seconds) of the buckets of the spawn-path histograms; +Inf is implied. Fine around the few
 * milliseconds a spawn takes, so that bench/ can read medians from them (docs/benchmarks.md).
 */
export const SPAWN_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0015, 0.002, 0.0025, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
  5, 10,
];
/** Upper bounds (seconds) of the session-length histogram's buckets. */
export const SESSION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 10, 60, 600, 3600,
];

/** The spawn path's timings, each a histogram (see Metrics.render for what each measures). */
export type SpawnTiming = 'admit' | 'start' | 'report' | 'session' | 'auditSync';

/** A label value as the format wants it: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(pairs: Record<string, string>): string {
  const body = Object.entries(pairs)
    .map(([name, value]) => `${name}="${escapeLabelValue(value)}"`)
    .join(',');
  return body === '' ? '' : `{${body}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function header(lines: string[], name: string, type: 'counter' | 'gauge' | 'histogram', help: string): void {
  lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
}

/** A Prometheus histogram without labels. */
class Histogram {
  /** Per bucket (non-cumulative), the last one +Inf; render() accumulates. */
  private readonly counts: number[];
  private count = 0;
  private sum = 0;

  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly bounds: readonly number[],
  ) {
    this.counts = [...bounds, Infinity].map(() => 0);
  }

  observe(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) return;
    this.count++;
    this.sum += seconds;
    const index = this.bounds.findIndex((le) => seconds <= le);
    const slot = index < 0 ? this.bounds.length : index;
    this.counts[slot] = (this.counts[slot] ?? 0) + 1;
  }

  render(lines: string[]): void {
    header(lines, this.name, 'histogram', this.help);
    let cumulative = 0;
    this.bounds.forEach((le, i) => {
      cumulative += this.counts[i] ?? 0;
      lines.push(`${this.name}_bucket${labels({ le: formatValue(le) })} ${formatValue(cumulative)}`);
    });
    lines.push(`${this.name}_bucket${labels({ le: '+Inf' })} ${formatValue(this.count)}`);
    lines.push(`${this.name}_sum ${formatValue(this.sum)}`);
    lines.push(`${this.name}_count ${formatValue(this.count)}`);
  }
}

export class Metrics {
  private readonly started = new Map<Mode, number>(MODES.map((m) => [m, 0]));
  /** Keyed by mode, then code: both are label values, so a Map rather than an object (no prototype keys). */
  private readonly denied = new Map<Mode, Map<string, number>>();
  /** Refusals by the per-client limits (daemon/server/client-limits.ts), by code. */
  private readonly limitRefusals = new Map<string, number>();
  private readonly auditFailures = new Map<string, number>([
    ['start', 0],
    ['end', 0],
    ['denied', 0],
  ]);
  private auditIsWritable = true;
  private unaudited = 0;
  private helperFailures = 0;
  private readonly helpersStarted = { forked: 0, execd: 0 };
  private zygotesStarted = 0;
  /**
   * The spawn path, from the daemon's clock. Its own work per session is admit + report; start - admit is the
   * helper building the jail; session - start - report is the program running and the helper's end.
   */
  private readonly timings: Readonly<Record<SpawnTiming, Histogram>> = {
    admit: new Histogram(
      'jai_spawn_admit_seconds',
      "Daemon-side time from a spawn request received to the sandbox helper started (validation, policy, audit row committed, plan, the helper's fork asked of the zygote or its exec).",
      SPAWN_BUCKETS,
    ),
    start: new Histogram(
      'jai_spawn_duration_seconds',
      'Daemon-side time from a spawn request received to the session started.',
      SPAWN_BUCKETS,
    ),
    report: new Histogram(
      'jai_spawn_report_seconds',
      "Daemon-side time from a session's end seen (helper exited, status closed) to its exit reported to the client (audit end row included).",
      SPAWN_BUCKETS,
    ),
    session: new Histogram(
      'jai_session_seconds',
      'Daemon-side time from a spawn request received to the exit reported, for sessions that started.',
      SESSION_BUCKETS,
    ),
    auditSync: new Histogram(
      'jai_audit_sync_seconds',
      "Time from a session's audit start row committed to it on disk (the WAL's fdatasync, in the thread pool while the helper builds the jail; the program waits for it).",
      SPAWN_BUCKETS,
    ),
  };

  sessionStarted(mode: Mode): void {
    this.started.set(mode, (this.started.get(mode) ?? 0) + 1);
  }

  sessionDenied(mode: Mode, code: string): void {
    let byCode = this.denied.get(mode);
    if (byCode === undefined) {
      byCode = new Map();
      this.denied.set(mode, byCode);
    }
    byCode.set(code, (byCode.get(code) ?? 0) + 1);
  }

  /** A connection or request refused by a per-client limit (CONNECTION_LIMIT, BUSY, RATE_LIMITED, REQUEST_TIMEOUT). */
  limitRefused(code: string): void {
    this.limitRefusals.set(code, (this.limitRefusals.get(code) ?? 0) + 1);
  }

  /** Daemon-side time from the spawn request received to the session started. */
  spawnObserved(seconds: number): void {
    this.timings.start.observe(seconds);
  }

  /** One of the spawn path's timings (negative and non-finite values are ignored). */
  timing(which: SpawnTiming, seconds: number): void {
    this.timings[which].observe(seconds);
  }

  helperFailure(): void {
    this.helperFailures++;
  }

  /** A session's (or teardown's) helper was started: forked by the zygote, or exec'd when none served. */
  helperStarted(how: 'forked' | 'execd'): void {
    this.helpersStarted[how]++;
  }

  /** A helper zygote was started (one at jaid's start, another after a crash or a failure). */
  zygoteStarted(): void {
    this.zygotesStarted++;
  }

  /** A write to the audit log failed (record: start, end, denied). */
  auditWriteFailed(record: 'start' | 'end' | 'denied'): void {
    this.auditFailures.set(record, (this.auditFailures.get(record) ?? 0) + 1);
  }

  auditWritable(writable: boolean): void {
    this.auditIsWritable = writable;
  }

  /** A session ran without its start record (--audit-failure=allow). */
  sessionUnaudited(): void {
    this.unaudited++;
  }

  render(active: Record<Mode, number>, limits: LimitsStatus): string {
    const lines: string[] = [];
    header(lines, 'jai_sessions_started_total', 'counter', 'Sessions started, by mode.');
    for (const mode of MODES)
      lines.push(`jai_sessions_started_total${labels({ mode })} ${formatValue(this.started.get(mode) ?? 0)}`);

    header(lines, 'jai_sessions_denied_total', 'counter', 'Spawn requests refused, by mode and error code.');
    for (const mode of MODES) {
      const byCode = this.denied.get(mode);
      if (byCode === undefined) continue;
      for (const [code, count] of [...byCode].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        lines.push(`jai_sessions_denied_total${labels({ mode, code })} ${formatValue(count)}`);
    }

    header(
      lines,
      'jai_limit_refusals_total',
      'counter',
      "Connections and requests refused by jaid's per-client limits, by error code.",
    );
    for (const [code, count] of [...this.limitRefusals].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      lines.push(`jai_limit_refusals_total${labels({ code })} ${formatValue(count)}`);

    header(lines, 'jai_sessions_active', 'gauge', 'Sessions running now, by mode.');
    for (const mode of MODES) lines.push(`jai_sessions_active${labels({ mode })} ${formatValue(active[mode])}`);

    this.timings.admit.render(lines);
    this.timings.start.render(lines);
    this.timings.report.render(lines);
    this.timings.session.render(lines);
    this.timings.auditSync.render(lines);

    header(lines, 'jai_helper_failures_total', 'counter', 'Sessions whose setup helper failed.');
    lines.push(`jai_helper_failures_total ${formatValue(this.helperFailures)}`);

    header(
      lines,
      'jai_helpers_started_total',
      'counter',
      "Helpers started, by how: forked by the helper zygote, or exec'd when no zygote served.",
    );
    for (const how of ['forked', 'execd'] as const)
      lines.push(`jai_helpers_started_total${labels({ how })} ${formatValue(this.helpersStarted[how])}`);

    header(
      lines,
      'jai_helper_zygotes_started_total',
      'counter',
      'Helper zygotes started: one at start, one more after each crash of a forked helper or failure of the zygote.',
    );
    lines.push(`jai_helper_zygotes_started_total ${formatValue(this.zygotesStarted)}`);

    header(
      lines,
      'jai_audit_writable',
      'gauge',
      'Whether the last write to the audit log succeeded (1) or failed (0).',
    );
    lines.push(`jai_audit_writable ${this.auditIsWritable ? '1' : '0'}`);

    header(lines, 'jai_audit_write_failures_total', 'counter', 'Audit log writes that failed, by record.');
    for (const [record, count] of this.auditFailures)
      lines.push(`jai_audit_write_failures_total${labels({ record })} ${formatValue(count)}`);

    header(
      lines,
      'jai_sessions_unaudited_total',
      'counter',
      'Sessions run without a start record in the audit log (--audit-failure=allow).',
    );
    lines.push(`jai_sessions_unaudited_total ${formatValue(this.unaudited)}`);

    header(lines, 'jai_limits_enforced', 'gauge', 'Whether per-session resource limits are enforced (1) or not (0).');
    lines.push(`jai_limits_enforced${labels({ backend: limits.backend })} ${limits.enforced ? '1' : '0'}`);
    return `${lines.join('\n')}\n`;
  }
}

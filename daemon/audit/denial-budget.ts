// How many refused requests per user reach the audit log. A refusal is cheap for the client and costs the daemon a
// synchronous, fsynced row, so each user gets a token bucket: a burst, then a steady trickle. Refusals over budget
// are still refused, counted and logged; the next row written for that user says how many were not recorded.

export interface DenialBudgetOptions {
  /** Rows a user may cause at once. */
  burst: number;
  /** Then one row per this many milliseconds. */
  refillMs: number;
}

export const DEFAULT_DENIAL_BUDGET: DenialBudgetOptions = { burst: 20, refillMs: 3000 };

interface Bucket {
  tokens: number;
  updatedMs: number;
  suppressed: number;
}

export class DenialBudget {
  private readonly buckets = new Map<number, Bucket>();

  constructor(private readonly options: DenialBudgetOptions = DEFAULT_DENIAL_BUDGET) {}

  /** Whether to write this refusal's row; `suppressed` is how many of this user's went unrecorded before it. */
  take(uid: number, nowMs: number): { record: true; suppressed: number } | { record: false } {
    const { burst, refillMs } = this.options;
    const bucket = this.buckets.get(uid) ?? { tokens: burst, updatedMs: nowMs, suppressed: 0 };
    bucket.tokens = Math.min(burst, bucket.tokens + Math.max(0, nowMs - bucket.updatedMs) / refillMs);
    bucket.updatedMs = nowMs;
    this.buckets.set(uid, bucket);
    if (bucket.tokens < 1) {
      bucket.suppressed++;
      return { record: false };
    }
    bucket.tokens -= 1;
    const suppressed = bucket.suppressed;
    bucket.suppressed = 0;
    // A full bucket with nothing owed is the default state: forget it, so the map holds only recent refusers.
    if (bucket.tokens >= burst - 1 && suppressed === 0 && this.buckets.size > 1024) this.buckets.delete(uid);
    return { record: true, suppressed };
  }
}

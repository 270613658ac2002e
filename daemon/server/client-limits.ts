// What one client uid may ask of the spawn socket (docs/threat-model.md #5): open connections (per uid and in all),
// requests being set up at once, helper starts per second, and how long a request may take to arrive. Each refusal
// has its own error code. Pure: the clock is passed in.
import { MAX_PACKET_BYTES } from '../../proto/codec';
import { DenialBudget } from '../audit/denial-budget';
import { failure, type Failure } from '../errors';

export interface ClientLimitSettings {
  /** Open spawn-socket connections in all (CONNECTION_LIMIT). */
  maxConnections: number;
  /** Open connections of one uid (CONNECTION_LIMIT). */
  maxConnectionsPerUid: number;
  /** Spawn and teardown requests of one uid received and not yet started or refused (BUSY). */
  maxSetupsPerUid: number;
  /** Helper starts (sessions and teardowns) per second and uid, sustained (RATE_LIMITED). */
  spawnRate: number;
  /** Helper starts one uid may make at once after idling. */
  spawnBurst: number;
  /** From accept to a complete request (REQUEST_TIMEOUT); SOCK_SEQPACKET packets arrive whole or not at all. */
  requestTimeoutMs: number;
  /** Largest packet read (PROTO_FRAME_TOO_LARGE); clients still send up to the protocol's MAX_PACKET_BYTES. */
  maxPacketBytes: number;
}

export const DEFAULT_CLIENT_LIMITS: Readonly<ClientLimitSettings> = {
  maxConnections: 4096,
  maxConnectionsPerUid: 256,
  maxSetupsPerUid: 32,
  spawnRate: 20,
  spawnBurst: 40,
  requestTimeoutMs: 10_000,
  maxPacketBytes: MAX_PACKET_BYTES,
};

/**
 * The values jaid accepts. Lower bounds: below them jai stops working for ordinary use (a request needs a few KiB,
 * a loaded machine may take a second to send it). Upper bounds: beyond them the limit no longer limits anything
 * (fds, memory) or is a typo.
 */
export const CLIENT_LIMIT_BOUNDS: Readonly<Record<keyof ClientLimitSettings, { min: number; max: number }>> = {
  maxConnections: { min: 16, max: 65_536 },
  maxConnectionsPerUid: { min: 4, max: 65_536 },
  maxSetupsPerUid: { min: 1, max: 4096 },
  spawnRate: { min: 0.1, max: 100_000 },
  spawnBurst: { min: 1, max: 100_000 },
  requestTimeoutMs: { min: 100, max: 600_000 },
  maxPacketBytes: { min: 4096, max: MAX_PACKET_BYTES },
};

/** Buckets are swept (the full ones forgotten) once the map has grown past this, then past twice what is left. */
const MIN_SWEEP_AT = 256;

/**
 * A token bucket per uid: `burst` tokens, refilled at `rate` per second. A full bucket is the same as none, so a
 * uid idle long enough to refill is forgotten: memory is bounded by the uids active within burst/rate seconds.
 */
export class SpawnRateLimiter {
  private readonly buckets = new Map<number, { tokens: number; atMs: number }>();
  private sweepAt = MIN_SWEEP_AT;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {}

  /** Takes a token for `uid`; when none is left, how long until one is. */
  take(uid: number, nowMs: number): { ok: true } | { ok: false; retryAfterMs: number } {
    const tokens = this.tokensAt(uid, nowMs);
    // A refusal changes nothing: the bucket refills from its last take, without rounding creeping in.
    if (tokens < 1) return { ok: false, retryAfterMs: Math.ceil(((1 - tokens) * 1000) / this.rate) };
    this.buckets.set(uid, { tokens: tokens - 1, atMs: nowMs });
    if (this.buckets.size > this.sweepAt) this.sweep(nowMs);
    return { ok: true };
  }

  /** Uids remembered (tests). */
  get size(): number {
    return this.buckets.size;
  }

  private tokensAt(uid: number, nowMs: number): number {
    const bucket = this.buckets.get(uid);
    if (bucket === undefined) return this.burst;
    // A clock that went backwards refills nothing.
    return Math.min(this.burst, bucket.tokens + (Math.max(0, nowMs - bucket.atMs) * this.rate) / 1000);
  }

  private sweep(nowMs: number): void {
    for (const uid of [...this.buckets.keys()]) if (this.tokensAt(uid, nowMs) >= this.burst) this.buckets.delete(uid);
    this.sweepAt = Math.max(MIN_SWEEP_AT, 2 * this.buckets.size);
  }
}

/** Ends a setup slot taken by beginSetup; idempotent. */
export type SetupSlot = { ok: true; release: () => void };

/**
 * The counters of every client limit, shared by the listener and all connections. Each check either counts the
 * connection or request (to be released by the caller) or returns the refusal to send.
 */
export class ClientLimits {
  private connections = 0;
  private readonly connectionsOf = new Map<number, number>();
  private readonly setupsOf = new Map<number, number>();
  private readonly rate: SpawnRateLimiter;
  /** Log lines about refusals, per uid: a flood must not become a flood of log lines. */
  private readonly logBudget = new DenialBudget({ burst: 10, refillMs: 10_000 });

  constructor(readonly settings: Readonly<ClientLimitSettings> = DEFAULT_CLIENT_LIMITS) {
    this.rate = new SpawnRateLimiter(settings.spawnRate, settings.spawnBurst);
  }

  /** A new connection from `uid`: counted (release with closeConnection), or refused with CONNECTION_LIMIT. */
  openConnection(uid: number): Failure | null {
    const mine = this.connectionsOf.get(uid) ?? 0;
    const { maxConnections, maxConnectionsPerUid } = this.settings;
    if (mine >= maxConnectionsPerUid)
      return failure(
        'CONNECTION_LIMIT',
        `too many connections to jaid from uid ${uid} (limit ${maxConnectionsPerUid}); close some and try again`,
      );
    if (this.connections >= maxConnections)
      return failure('CONNECTION_LIMIT', `jaid has its maximum of ${maxConnections} connections open; try again later`);
    this.connections++;
    this.connectionsOf.set(uid, mine + 1);
    return null;
  }

  closeConnection(uid: number): void {
    this.connections = Math.max(0, this.connections - 1);
    decrement(this.connectionsOf, uid);
  }

  /**
   * A spawn or teardown request of `uid` is about to start a helper: BUSY when the uid has as many being set up
   * already, RATE_LIMITED when it has used its spawn rate; else a slot, to release once the session has started or
   * the request has failed. A BUSY refusal takes no token.
   */
  beginSetup(uid: number, nowMs: number): SetupSlot | Failure {
    const { maxSetupsPerUid, spawnRate, spawnBurst } = this.settings;
    const busy = this.setupsOf.get(uid) ?? 0;
    if (busy >= maxSetupsPerUid)
      return failure(
        'BUSY',
        `${busy} requests of uid ${uid} are being set up already (limit ${maxSetupsPerUid}); try again when they have started`,
      );
    const token = this.rate.take(uid, nowMs);
    if (!token.ok)
      return failure(
        'RATE_LIMITED',
        `uid ${uid} starts sessions faster than jaid allows (${spawnRate}/s, bursts of ${spawnBurst}); ` +
          `try again in ${token.retryAfterMs} ms`,
      );
    this.setupsOf.set(uid, busy + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        decrement(this.setupsOf, uid);
      },
    };
  }

  /** Whether to log this refusal for `uid` (a few, then one every 10 s), and how many went unlogged before it. */
  shouldLog(uid: number, nowMs: number): { log: true; unlogged: number } | { log: false } {
    const taken = this.logBudget.take(uid, nowMs);
    return taken.record ? { log: true, unlogged: taken.suppressed } : { log: false };
  }

  /** Open connections of `uid`, and in all (tests, logs). */
  connectionsFor(uid: number): number {
    return this.connectionsOf.get(uid) ?? 0;
  }

  get openConnections(): number {
    return this.connections;
  }

  /** Requests of `uid` being set up. */
  setupsFor(uid: number): number {
    return this.setupsOf.get(uid) ?? 0;
  }
}

function decrement(map: Map<number, number>, key: number): void {
  const left = (map.get(key) ?? 1) - 1;
  if (left > 0) map.set(key, left);
  else map.delete(key);
}

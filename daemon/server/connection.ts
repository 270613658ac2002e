// One client connection: a small state machine (OpenSSH-monitor style). Each state lists the messages it
// accepts; anything else gets one Error and the connection closes. Protocol version 1 serves one request; version 2
// goes back to `spawn` after each request's final message, and nothing but the authenticated peer carries over
// from one request to the next (identity, policy, fds and the session are all per request).
import { randomBytes } from 'node:crypto';
import {
  PROTOCOL_VERSIONS,
  PROTOCOL_VERSION_REUSE,
  decodeClientMessage,
  encodeDaemonMessage,
  v1,
} from '../../proto/codec';
import { PacketChannel, closeQuietly, type Packet } from '../../proto/channel';
import { failure, toWireCode, type ErrorCodeName, type Failure } from '../errors';
import type { HelperBinary } from '../helper-binary';
import type { Logger } from '../log';
import type { PolicyControl } from '../admin/context';
import type { Metrics } from '../admin/metrics';
import type { CgroupManager } from '../limits/cgroups';
import { decide } from '../policy/decide';
import { evaluate, filterEnv, type Allowed } from '../policy/evaluate';
import {
  SANDBOX_USER,
  checkSandboxAccount,
  sandboxIdentityFor,
  type SandboxCheck,
  type SandboxIdRange,
} from '../sandbox-account';
import { buildHelperPlan, buildTeardownPlan, encodePlan, type HelperPlan, type PlanEntry } from '../plan/helper-plan';
import type { AuditGuard } from '../audit/audit-guard';
import type { SessionEnd, SessionStart } from '../audit/audit-log';
import type { DenialBudget } from '../audit/denial-budget';
import type { Policy } from '../policy/types';
import type { SessionRegistry } from '../session/registry';
import { FINISH_GRACE_MS, Session, type ChangesSummary, type NoticeKind, type SessionResult } from '../session/session';
import type { ClientLimits } from './client-limits';
import { resolveIdentity, type Identity, type NssLookup, type PeerCredentials } from './peer';
import { expectedFdCount, validateSpawnRequest, validateTeardown, type ValidRequest } from './validate';

type State = 'hello' | 'spawn' | 'waiting' | 'running' | 'teardown' | 'done';
type Body = NonNullable<v1.ClientMessage['body']>;

/** Which message each state accepts. */
const ACCEPTS: Readonly<Record<State, readonly Body[]>> = {
  hello: ['hello'],
  spawn: ['spawn', 'teardown'],
  /** A spawn at the user's max_sessions waits for a finishing session of theirs (Connection.onSpawn). */
  waiting: [],
  running: ['signal', 'continue'],
  teardown: [],
  done: [],
};

/**
 * Version 2, between requests: a Signal or Continue sent while the previous session was exiting crossed its Exited
 * on the wire. It can only have meant that session, which is gone: dropped, not a protocol error.
 */
const LATE_FOR_PREVIOUS_SESSION: readonly Body[] = ['signal', 'continue'];

/**
 * Errors after which the connection closes whatever the version: the peer broke the protocol, or jaid is stopping.
 * After any other Error (the request's outcome: refused, failed) a version 2 connection takes the next request.
 */
const CLOSES_CONNECTION: ReadonlySet<ErrorCodeName> = new Set<ErrorCodeName>([
  'PROTO_BAD_FRAME',
  'PROTO_FRAME_TOO_LARGE',
  'PROTO_UNEXPECTED',
  'PROTO_VERSION',
  'REQUEST_FDS',
  'REQUEST_TIMEOUT',
  'CONNECTION_LIMIT',
  'DAEMON_STOPPING',
]);

const NO_SANDBOX: SandboxCheck = { ok: false, reason: 'missing' };
const NO_LIMITS = { memoryBytes: null, pids: null, cpu: null } as const;

/** Signals a client may forward to its own session. */
const FORWARDABLE_SIGNALS: ReadonlySet<number> = new Set([1, 2, 3, 15]);

export interface ConnectionContext {
  log: Logger;
  /** The audit log's session writes; never throws (a failed start write is a refusal or, if allowed, a warning). */
  audit: AuditGuard;
  nss: NssLookup;
  helper: HelperBinary;
  policy: Pick<PolicyControl, 'current'>;
  registry: SessionRegistry;
  metrics: Metrics;
  /** null: limits are not enforced on this host (reported by the admin API). */
  cgroups: CgroupManager | null;
  /** Shared by all connections: how many refusals per user are written to the audit log. */
  denials: DenialBudget;
  /** Where strict jails' per-user ids come from (jaid --sandbox-id-base, --sandbox-id-count). */
  sandboxIds: SandboxIdRange;
  /** Shared by all connections: the per-uid limits on setups and spawn rate, the request deadline, the packet cap. */
  limits: ClientLimits;
  /** Called once the connection is finished (closed and, if it ran one, its session recorded). */
  onClosed(connection: Connection): void;
}

/** The user is at max_sessions and one of their sessions is finishing: admit again once it has ended. */
interface AwaitFinishing {
  ok: false;
  awaitUid: number;
}

interface Admission {
  ok: true;
  identity: Identity;
  valid: ValidRequest;
  allowed: Allowed;
  plan: HelperPlan;
  cgroups: string[];
}

const seconds = (nanoseconds: bigint): number => Number(nanoseconds) / 1e9;

/** A session's result as its audit row records it. */
function endOf(result: SessionResult): SessionEnd {
  switch (result.kind) {
    case 'exited':
      return { outcome: 'exited', exitCode: result.code };
    case 'signaled':
      return { outcome: 'signaled', signal: result.signal };
    case 'failed':
      return {
        outcome: 'failed',
        errorCode: result.failure.code,
        error: result.failure.message,
        exitCode: result.failure.exitCode,
      };
  }
}

/** The grants a session gets, the implicit cwd grant first: what the policy checks and the audit records. */
function grantsOf(valid: ValidRequest): { path: string; readOnly: boolean }[] {
  return [...(valid.nocwd ? [] : [{ path: valid.cwd, readOnly: false }]), ...valid.grants];
}

export class Connection {
  private state: State = 'hello';
  /** The version agreed in Hello; 0 before. */
  private version = 0;
  /** Set when the connection must end after the current request (protocol error, daemon stopping). */
  private closing = false;
  private reported = false;
  private readonly channel: PacketChannel;
  /** The current request's session (or teardown); null between requests. */
  private session: Session | null = null;
  /**
   * Sessions whose program has ended and been reported, whose helper is still finishing (the changes walk, its
   * exit): the connection may take its next request meanwhile, but is reported closed only once they have ended.
   */
  private readonly finishing = new Set<Session>();
  private sessionId: string | null = null;
  private deadline: NodeJS.Timeout | null = null;
  /** Releases this connection's setup slot (ClientLimits.beginSetup) once its helper has started or failed. */
  private endSetup: (() => void) | null = null;

  constructor(
    fd: number,
    private readonly peer: PeerCredentials,
    private readonly ctx: ConnectionContext,
  ) {
    this.channel = new PacketChannel(fd, {
      onPacket: (packet) => {
        this.onPacket(packet);
      },
      onOversize: () => {
        this.refuse(failure('PROTO_FRAME_TOO_LARGE', 'packet over the size cap'));
      },
      onEnd: (end) => {
        if (end.kind === 'error') this.ctx.log.warn({ peer: this.peer, err: end.error }, 'connection error');
        this.onChannelEnd();
      },
    });
    this.armDeadline();
  }

  /** Daemon shutdown: the session (if any) is hung up; the connection ends when it has been recorded. */
  shutdown(): void {
    this.closing = true;
    if (this.session === null) {
      this.refuse(failure('DAEMON_STOPPING', 'jaid is stopping'));
      return;
    }
    if (this.session.isEnded) return;
    this.sendNotice('info', 'jaid is stopping: the session is being hung up');
    this.session.hangup();
  }

  /**
   * Packets arrive whole (SOCK_SEQPACKET): a slow sender is one whose Hello and request are not all in within the
   * request timeout of connecting (version 2: of its last request's end).
   */
  private armDeadline(): void {
    this.clearDeadline();
    const { requestTimeoutMs } = this.ctx.limits.settings;
    this.deadline = setTimeout(() => {
      if (this.state === 'hello' || this.state === 'spawn')
        this.refuseOverLimit(failure('REQUEST_TIMEOUT', `no complete request within ${requestTimeoutMs} ms`), null);
    }, requestTimeoutMs);
    this.deadline.unref();
  }

  private clearDeadline(): void {
    if (this.deadline !== null) clearTimeout(this.deadline);
    this.deadline = null;
  }

  private onPacket(packet: Packet): void {
    const receivedAt = process.hrtime.bigint();
    if (this.state === 'done') {
      // Refused already: whatever else arrives before the close is dropped unread.
      packet.fds.forEach(closeQuietly);
      return;
    }
    // The channel reads up to the protocol's cap; jaid may be set to accept less (--max-packet-bytes).
    if (packet.data.length > this.ctx.limits.settings.maxPacketBytes) {
      packet.fds.forEach(closeQuietly);
      this.refuse(failure('PROTO_FRAME_TOO_LARGE', 'packet over the size cap'));
      return;
    }
    const decoded = decodeClientMessage(packet.data);
    if (!decoded.ok) {
      packet.fds.forEach(closeQuietly);
      this.refuse(failure('PROTO_BAD_FRAME', `bad packet: ${decoded.reason}`));
      return;
    }
    const message = decoded.message;
    const body = message.body;
    if (
      body !== undefined &&
      this.state === 'spawn' &&
      this.version === PROTOCOL_VERSION_REUSE &&
      LATE_FOR_PREVIOUS_SESSION.includes(body) &&
      packet.fds.length === 0
    )
      return;
    if (body === undefined || !ACCEPTS[this.state].includes(body)) {
      packet.fds.forEach(closeQuietly);
      this.refuse(failure('PROTO_UNEXPECTED', `unexpected ${body ?? 'empty'} message`));
      return;
    }
    if (body !== 'spawn' && packet.fds.length > 0) {
      packet.fds.forEach(closeQuietly);
      this.refuse(failure('REQUEST_FDS', `fds attached to a ${body} message`));
      return;
    }
    switch (body) {
      case 'hello':
        this.onHello(message.hello ?? {});
        return;
      case 'spawn':
        this.onSpawn(v1.SpawnRequest.create(message.spawn ?? {}), packet.fds, receivedAt);
        return;
      case 'signal':
        this.onSignal(message.signal?.signo ?? 0);
        return;
      case 'teardown':
        this.onTeardown(v1.Teardown.create(message.teardown ?? {}));
        return;
      case 'continue':
        this.session?.continueJob();
        return;
    }
  }

  private onHello(hello: v1.Hello.$Properties): void {
    const version = hello.version ?? 0;
    if (!PROTOCOL_VERSIONS.includes(version)) {
      this.refuse(
        failure(
          'PROTO_VERSION',
          `protocol version ${String(hello.version)} is not supported (want ${PROTOCOL_VERSIONS.join(' or ')})`,
        ),
      );
      return;
    }
    this.version = version;
    this.send({ hello: { version, agent: 'jaid' } });
    this.state = 'spawn';
  }

  /** `retried`: admitted again after waiting for a finishing session (the setup slot is held already). */
  private onSpawn(request: v1.SpawnRequest, fds: number[], receivedAt: bigint, retried = false): void {
    this.clearDeadline();
    if (!retried && !this.beginSetup(request)) {
      fds.forEach(closeQuietly);
      return;
    }
    const id = randomBytes(16).toString('hex');
    let outcome: Admission | AwaitFinishing | Failure;
    try {
      outcome = this.admit(id, request, fds.length, !retried);
    } catch (e) {
      // A bug or an NSS backend failure: this request fails, the daemon and everyone else's sessions do not.
      this.ctx.log.error({ peer: this.peer, err: e }, 'spawn admission failed');
      outcome = failure('INTERNAL', 'internal error while checking the request');
    }
    if ('awaitUid' in outcome) {
      // Its helper is exiting (a client running sessions back to back sends the next request as soon as it has the
      // exit): admitted once it has gone, or refused then if the user is still at the limit.
      this.state = 'waiting';
      this.ctx.registry.afterFinishing(outcome.awaitUid, FINISH_GRACE_MS, () => {
        if (this.state !== 'waiting') {
          fds.forEach(closeQuietly); // the connection ended meanwhile; its slot went with it
          return;
        }
        this.state = 'spawn';
        this.onSpawn(request, fds, receivedAt, true);
      });
      return;
    }
    if (!outcome.ok) {
      fds.forEach(closeQuietly);
      this.ctx.log.info({ peer: this.peer, code: outcome.code, reason: outcome.message }, 'spawn refused');
      this.refuse(outcome);
      return;
    }
    const { identity, valid, allowed, plan, cgroups } = outcome;
    // The start row is the session's precondition: nothing runs that is not recorded (unless --audit-failure=allow).
    const startRow: SessionStart = {
      id,
      uid: identity.uid,
      user: identity.user,
      peerUid: identity.peerUid,
      peerPid: identity.peerPid,
      argv: plan.argv,
      cwd: valid.cwd,
      mode: valid.mode,
      jail: valid.jail,
      grants: grantsOf(valid),
      masks: valid.mode === 'casual' ? valid.masks : [],
      network: allowed.network,
      limits: allowed.limits,
      rule: allowed.rule,
    };
    const audited = this.ctx.audit.recordStart(startRow);
    if (!audited.ok) {
      // Logged by the guard once per failure, not per request; counted here.
      fds.forEach(closeQuietly);
      this.releaseCgroups(id, cgroups);
      this.ctx.metrics.sessionDenied(valid.mode, audited.code);
      this.refuse(audited);
      return;
    }
    this.sessionId = id;
    this.state = 'running';
    // Logged once the helper is on its way (the line is ~0.15 ms of the event loop), but always before 'session end'.
    let startLogged = false;
    const logStart = (): void => {
      if (startLogged) return;
      startLogged = true;
      this.ctx.log.info(
        {
          session: id,
          user: identity.user,
          uid: identity.uid,
          argv0: plan.argv[0],
          cwd: valid.cwd,
          mode: valid.mode,
          network: allowed.network,
          rule: allowed.rule,
          audited: audited.audited,
        },
        'session start',
      );
    };
    /** Set once the client has the exit (at init's record, or at the end for a session that failed). */
    let exitReportedAt: bigint | null = null;
    const timeReport = (endSeenAt: bigint, result: SessionResult): void => {
      exitReportedAt = process.hrtime.bigint();
      this.ctx.metrics.timing('report', seconds(exitReportedAt - endSeenAt));
      if (result.kind !== 'failed') this.ctx.metrics.timing('session', seconds(exitReportedAt - receivedAt));
    };
    const session = new Session(id, this.ctx.helper, this.ctx.log, {
      onStarted: (master) => {
        this.setupEnded();
        this.ctx.metrics.sessionStarted(valid.mode);
        this.ctx.metrics.spawnObserved(seconds(process.hrtime.bigint() - receivedAt));
        if (master === null) this.send({ started: { sessionId: id, pty: false } });
        else this.send({ started: { sessionId: id, pty: true } }, [master], () => closeQuietly(master));
      },
      onNotice: (kind, message) => {
        this.sendNotice(kind, message);
      },
      onStopped: (signo) => {
        this.send({ stopped: { signal: signo } });
      },
      onExited: (result) => {
        // The client has its status now; the helper's walk of the changes and its exit (~1 ms) follow unwaited.
        const exitedAt = process.hrtime.bigint();
        this.ctx.registry.finishing(id);
        if (this.session === session) this.session = null;
        this.finishing.add(session);
        this.reportEnd(id, result);
        timeReport(exitedAt, result);
      },
      onEnded: (result, changes) => {
        logStart(); // a helper that failed to start ends the session within session.start()
        const endedAt = process.hrtime.bigint();
        this.ctx.registry.remove(id);
        try {
          if (exitReportedAt !== null) {
            if (changes !== null) this.ctx.audit.recordChanges(id, changes);
          } else {
            this.reportEnd(id, result, changes);
            timeReport(endedAt, result);
          }
        } finally {
          // After the client has its exit status: the rmdirs are ~0.15 ms and nobody waits for them.
          this.releaseCgroups(id, cgroups);
        }
        this.ctx.log.info({ session: id, changes: changes?.count, ...endOf(result) }, 'session end');
        if (this.finishing.delete(session)) this.reportClosedOnce();
      },
    });
    this.session = session;
    this.ctx.registry.add({ id, uid: identity.uid, mode: valid.mode, hangup: () => session.hangup() });
    session.start(encodePlan(plan.entries), fds);
    if (!session.isEnded) this.ctx.metrics.timing('admit', seconds(process.hrtime.bigint() - receivedAt));
    logStart();
    // The start row's fdatasync runs while the helper builds the jail; the helper waits for the go.
    const committedAt = process.hrtime.bigint();
    this.ctx.audit.whenDurable(startRow, audited.audited, (refusal) => {
      this.ctx.metrics.timing('auditSync', seconds(process.hrtime.bigint() - committedAt));
      if (refusal === null) session.go();
      else session.abort(refusal);
    });
  }

  private releaseCgroups(id: string, cgroups: readonly string[]): void {
    if (cgroups.length === 0 || this.ctx.cgroups === null) return;
    void this.ctx.cgroups.remove(id, this.ctx.log);
  }

  private admit(
    id: string,
    request: v1.SpawnRequest,
    fdCount: number,
    mayWait: boolean,
  ): Admission | AwaitFinishing | Failure {
    const valid = validateSpawnRequest(request);
    if (!valid.ok) return valid;
    const expected = expectedFdCount(valid.value);
    if (fdCount !== expected)
      return failure('REQUEST_FDS', `expected ${expected} fds with the request, got ${fdCount}`);
    const identity = resolveIdentity(this.peer, valid.value.actAsUser, this.ctx.nss);
    if (!identity.ok) return identity;
    const sandbox =
      valid.value.mode === 'strict'
        ? sandboxIdentityFor(
            identity.value.uid,
            checkSandboxAccount(this.ctx.nss.getpwnam(SANDBOX_USER)),
            this.ctx.sandboxIds,
            this.ctx.nss,
          )
        : NO_SANDBOX;
    const decision = decide(identity.value, valid.value, sandbox);
    if (!decision.ok) return this.denied(id, identity.value, valid.value, 'builtin', decision);
    const policy = this.ctx.policy.current();
    const allowed = evaluate(
      policy,
      {
        user: identity.value.user,
        uid: identity.value.uid,
        groupNames: this.policyGroupsOf(policy, identity.value.groups),
      },
      {
        mode: valid.value.mode,
        network: valid.value.network,
        limits: valid.value.limits,
        grants: grantsOf(valid.value),
      },
      this.ctx.registry.countForUid(identity.value.uid),
    );
    if (
      !allowed.ok &&
      allowed.code === 'SESSION_LIMIT' &&
      mayWait &&
      this.ctx.registry.hasFinishing(identity.value.uid)
    )
      return { ok: false, awaitUid: identity.value.uid };
    if (!allowed.ok)
      return this.denied(
        id,
        identity.value,
        valid.value,
        allowed.rule,
        failure(allowed.code, `${allowed.reason} (policy rule ${allowed.rule})`),
      );
    const effective: ValidRequest = {
      ...valid.value,
      env: filterEnv(valid.value.env, allowed.unsetenv),
      masks: [...new Set([...valid.value.masks, ...allowed.masks])],
    };
    const cgroups = this.ctx.cgroups?.create(id, allowed.limits) ?? [];
    try {
      const plan = buildHelperPlan(identity.value, effective, decision.sandbox, {
        network: allowed.network,
        cgroups,
        allowUserns: allowed.allowUserns,
        allowKeyring: allowed.allowKeyring,
      });
      // What the audit records is what the session gets: no ceilings where the host cannot enforce them.
      const applied = this.ctx.cgroups === null ? { ...allowed, limits: NO_LIMITS } : allowed;
      return { ok: true, identity: identity.value, valid: effective, allowed: applied, plan, cgroups };
    } catch (e) {
      this.releaseCgroups(id, cgroups);
      throw e;
    }
  }

  /**
   * A refusal by policy: counted, audited (outcome denied) within the user's refusal budget, logged either way, and
   * returned to be sent.
   */
  private denied(id: string, identity: Identity, valid: ValidRequest, rule: string, refusal: Failure): Failure {
    this.ctx.metrics.sessionDenied(valid.mode, refusal.code);
    const budget = this.ctx.denials.take(identity.uid, Date.now());
    if (!budget.record) {
      this.ctx.log.info({ user: identity.user, rule, reason: refusal.message }, 'refusal over the audit budget');
      return refusal;
    }
    this.recordDenied(id, identity, valid, rule, refusal, budget.suppressed);
    return refusal;
  }

  /**
   * Takes a setup slot for a spawn (`request`) or teardown (null) request, or refuses it with BUSY or
   * RATE_LIMITED before anything else is looked at; false when refused.
   */
  private beginSetup(request: v1.SpawnRequest | null): boolean {
    this.setupEnded(); // a request's slot ends with it; never two held by one connection
    const slot = this.ctx.limits.beginSetup(this.peer.uid, Date.now());
    if (slot.ok) {
      this.endSetup = slot.release;
      return true;
    }
    this.refuseOverLimit(slot, request);
    return false;
  }

  private setupEnded(): void {
    this.endSetup?.();
    this.endSetup = null;
  }

  /**
   * A refusal by a per-client limit: counted, logged within a per-uid budget, sent. A spawn request that validates
   * is also audited as denied within the user's refusal budget; the NSS lookup for its row is made only then, so
   * that refusals stay cheap under a flood. Teardowns and timeouts are not audited (no session was asked for).
   */
  private refuseOverLimit(refusal: Failure, request: v1.SpawnRequest | null): void {
    const now = Date.now();
    this.ctx.metrics.limitRefused(refusal.code);
    const logged = this.ctx.limits.shouldLog(this.peer.uid, now);
    if (logged.log)
      this.ctx.log.info({ peer: this.peer, code: refusal.code, unlogged: logged.unlogged }, refusal.message);
    const valid = request === null ? null : validateSpawnRequest(request);
    if (valid?.ok === true) {
      this.ctx.metrics.sessionDenied(valid.value.mode, refusal.code);
      const budget = this.ctx.denials.take(this.peer.uid, now);
      try {
        const identity = budget.record ? resolveIdentity(this.peer, valid.value.actAsUser, this.ctx.nss) : null;
        if (budget.record && identity?.ok === true) {
          const id = randomBytes(16).toString('hex');
          const rule = refusal.code === 'BUSY' ? 'max_setups_per_uid' : 'spawn_rate';
          this.recordDenied(id, identity.value, valid.value, rule, refusal, budget.suppressed);
        }
      } catch (e) {
        this.ctx.log.error({ err: e }, 'audit write failed for a refusal');
      }
    }
    this.refuse(refusal);
  }

  private recordDenied(
    id: string,
    identity: Identity,
    valid: ValidRequest,
    rule: string,
    refusal: Failure,
    suppressed: number,
  ): void {
    const unrecorded = suppressed === 0 ? '' : ` [+${suppressed} earlier refusals not recorded]`;
    this.ctx.audit.recordDenied({
      id,
      uid: identity.uid,
      user: identity.user,
      peerUid: identity.peerUid,
      peerPid: identity.peerPid,
      argv: valid.argv,
      cwd: valid.cwd,
      mode: valid.mode,
      jail: valid.jail,
      grants: grantsOf(valid),
      rule,
      code: refusal.code,
      reason: refusal.message + unrecorded,
    });
  }

  /**
   * The groups the policy's rules name that the user is in, compared by gid. A lookup that fails throws (the request
   * is refused): falling through to `[defaults]` when NSS is down would grant a restricted group the defaults.
   */
  private policyGroupsOf(policy: Policy, gids: readonly number[]): string[] {
    const mine = new Set(gids);
    const named = new Set(policy.rules.flatMap((rule) => rule.groups));
    return [...named].filter((name) => {
      const group = this.ctx.nss.getgrnam(name);
      return group !== null && mine.has(group.gid);
    });
  }

  /** `jai -u`: the helper's teardown op, run like a session without a program; no audit row (it is logged). */
  private onTeardown(request: v1.Teardown): void {
    this.clearDeadline();
    if (!this.beginSetup(null)) return;
    let plan: PlanEntry[];
    let user: string;
    let uid: number;
    try {
      const valid = validateTeardown(request);
      if (!valid.ok) return this.refuse(valid);
      const identity = resolveIdentity(this.peer, valid.value.actAsUser, this.ctx.nss);
      if (!identity.ok) return this.refuse(identity);
      plan = buildTeardownPlan(identity.value, valid.value);
      user = identity.value.user;
      uid = identity.value.uid;
    } catch (e) {
      this.ctx.log.error({ peer: this.peer, err: e }, 'teardown admission failed');
      return this.refuse(failure('INTERNAL', 'internal error while checking the request'));
    }
    this.state = 'teardown';
    // A session of the user's that the client has seen end may still hold its mounts for a moment (its helper's
    // exit): the teardown waits for that, or it would find them busy.
    this.ctx.registry.afterFinishing(uid, FINISH_GRACE_MS, () => {
      // The connection ended meanwhile (the client left, jaid is stopping): nothing to do.
      if (this.state === 'teardown' && this.session === null) this.startTeardown(plan, user, request.jail);
    });
  }

  private startTeardown(plan: readonly PlanEntry[], user: string, jail: string): void {
    const id = randomBytes(16).toString('hex');
    this.ctx.log.info({ teardown: id, user, jail: jail || '(all)' }, 'teardown');
    this.session = new Session(id, this.ctx.helper, this.ctx.log, {
      onStarted: () => undefined,
      onStopped: () => undefined,
      onExited: () => undefined,
      onNotice: (kind, message) => {
        this.sendNotice(kind, message);
      },
      onEnded: (result) => {
        this.ctx.log.info({ teardown: id, user, result }, 'teardown end');
        if (result.kind === 'exited') {
          this.send({ tornDown: { exitCode: result.code } });
          this.requestDone();
        } else if (result.kind === 'failed') this.refuse(result.failure);
        else this.refuse(failure('HELPER_FAILED', `teardown helper killed by signal ${result.signal}`, 125));
      },
    });
    this.session.start(encodePlan(plan), []);
  }

  private sendNotice(kind: NoticeKind, message: string): void {
    this.send({
      notice: {
        kind: kind === 'masks-ignored' ? v1.NoticeKind.NOTICE_MASKS_IGNORED : v1.NoticeKind.NOTICE_INFO,
        message,
      },
    });
  }

  private onSignal(signo: number): void {
    if (!FORWARDABLE_SIGNALS.has(signo)) {
      this.ctx.log.warn({ session: this.sessionId, signo }, 'refused to forward signal');
      return;
    }
    this.session?.signal(signo);
  }

  /**
   * The end row, then the client's final message: whoever sees the exit can read the row. The changes come with it
   * when the helper has reported them already, else later (recordChanges).
   */
  private reportEnd(id: string, result: SessionResult, changes: ChangesSummary | null = null): void {
    const end = endOf(result);
    if (result.kind === 'failed' && result.failure.code === 'HELPER_FAILED') this.ctx.metrics.helperFailure();
    // A failed write is kept by the guard and written once the log can be written again.
    this.ctx.audit.recordEnd(id, changes === null ? end : { ...end, changes });
    if (result.kind === 'failed') this.refuse(result.failure);
    else {
      this.send({ exited: result.kind === 'exited' ? { code: result.code } : { signal: result.signal } });
      this.requestDone();
    }
  }

  /**
   * The current request had its final message. Version 1, or a connection that must close: finish. Version 2: back
   * to `spawn` with nothing of the request kept, and the request deadline armed again.
   */
  private requestDone(): void {
    if (this.session !== null && !this.session.isEnded) return;
    if (this.version !== PROTOCOL_VERSION_REUSE || this.closing || this.channel.isClosed) {
      this.finish();
      return;
    }
    // A teardown never reports started: its slot ends here (a spawn's ended at its start or refusal).
    this.setupEnded();
    this.session = null;
    this.sessionId = null;
    this.state = 'spawn';
    this.armDeadline();
  }

  private onChannelEnd(): void {
    this.clearDeadline();
    // The client went away mid-session: hang the session up; the connection finishes when it has ended.
    if (this.session !== null && !this.session.isEnded) this.session.hangup();
    else this.finish();
    this.reportClosedOnce();
  }

  /** The listener forgets a connection only when its fd is closed and its session (if any) recorded. */
  private reportClosedOnce(): void {
    if (this.reported || this.state !== 'done' || !this.channel.isClosed || this.finishing.size > 0) return;
    this.reported = true;
    this.ctx.onClosed(this);
  }

  private send(message: v1.DaemonMessage.$Properties, fds: number[] = [], done?: () => void): void {
    this.channel.send(encodeDaemonMessage(message), fds, done);
  }

  /** Sends the Error; then the connection closes (protocol errors, version 1) or takes the next request. */
  private refuse(f: Failure): void {
    this.setupEnded();
    this.send({ error: { code: toWireCode(f.code), message: f.message, exitCode: f.exitCode } });
    // A client that breaks the protocol mid-session loses its session too.
    if (this.session !== null && !this.session.isEnded) {
      this.closing = true;
      this.session.hangup();
    }
    if (CLOSES_CONNECTION.has(f.code)) this.closing = true;
    this.requestDone();
  }

  private finish(): void {
    if (this.state === 'done') {
      return;
    }
    this.setupEnded();
    if (this.session !== null && !this.session.isEnded) return;
    this.state = 'done';
    this.clearDeadline();
    this.channel.end();
    this.reportClosedOnce();
  }
}

// jaid: composition root only.
import { Metrics } from './admin/metrics';
import { startAdminServer, type AdminServer } from './admin/server';
import { AuditGuard } from './audit/audit-guard';
import { AuditLog } from './audit/audit-log';
import { DenialBudget } from './audit/denial-budget';
import { readDaemonConfig } from './config-file';
import { openHelperBinary } from './helper-binary';
import { CgroupManager, MIN_LEFTOVER_AGE_MS } from './limits/cgroups';
import { PolicyHolder } from './policy/holder';
import type { Policy } from './policy/types';
import { SessionRegistry } from './session/registry';
import { VERSION } from '../client/cli/version';
import { createLogger } from './log';
import { nativeNss } from './nss';
import { NSS_FILES, NssCache } from './nss-cache';
import { ensureSandboxAccount } from './sandbox-account';
import { sdNotify } from './notify';
import {
  DEFAULT_SANDBOX_ID_BASE,
  DEFAULT_SANDBOX_ID_COUNT,
  LOG_LEVELS,
  USAGE,
  defaultHelperPath,
  parseDaemonArgs,
  type LogLevel,
} from './options';
import { ClientLimits, DEFAULT_CLIENT_LIMITS } from './server/client-limits';
import { Listener } from './server/listener';
import { HelperZygote } from './session/helper-zygote';
import { killLeftoverHelpers } from './session/leftovers';
import { activationFd, takeActivationEnv } from './server/socket-activation';

const isLogLevel = (v: string | undefined): v is LogLevel => LOG_LEVELS.some((l) => l === v);
const DAY_MS = 24 * 60 * 60 * 1000;
/** How long an NSS answer from a source other than /etc's files may be stale (docs/operations.md). */
const NSS_CACHE_TTL_MS = 10_000;

/** The admin socket's group: the policy's admin_group, when that group exists. */
function adminGid(policy: Policy, log: ReturnType<typeof createLogger>): number | null {
  if (policy.adminGroup === null) return null;
  const group = nativeNss.getgrnam(policy.adminGroup);
  if (group === null)
    log.warn({ adminGroup: policy.adminGroup }, 'admin_group does not exist: admin socket left to root');
  return group?.gid ?? null;
}

async function main(): Promise<void> {
  const parsed = parseDaemonArgs(
    process.argv.slice(2),
    {
      socketPath: process.env['JAI_SOCKET'] ?? '/run/jai/jaid.sock',
      socketMode: 0o666,
      auditDb: '/var/lib/jai/audit.db',
      helperPath: defaultHelperPath(__dirname),
      logLevel: isLogLevel(process.env['JAID_LOG_LEVEL']) ? process.env['JAID_LOG_LEVEL'] : 'info',
      auditRetentionDays: 0,
      auditRetentionRows: 0,
      auditFailure: 'refuse',
      helperZygote: true,
      policyPath: null,
      adminSocketPath: '/run/jai/admin.sock',
      adminSocketMode: 0o660,
      sandboxIdBase: DEFAULT_SANDBOX_ID_BASE,
      sandboxIdCount: DEFAULT_SANDBOX_ID_COUNT,
      clientLimits: { ...DEFAULT_CLIENT_LIMITS },
    },
    readDaemonConfig,
  );
  if (!parsed.ok) {
    // A malformed command line is a usage error; a value refused (from a flag or jaid.toml) is not.
    process.stderr.write(`jaid: ${parsed.message}\n${parsed.usage ? USAGE : ''}`);
    process.exitCode = parsed.usage ? 2 : 1;
    return;
  }
  if ('help' in parsed) {
    process.stdout.write(USAGE);
    return;
  }
  const { options } = parsed;
  if (process.geteuid?.() !== 0) {
    process.stderr.write('jaid: must run as root\n');
    process.exitCode = 1;
    return;
  }
  const helper = openHelperBinary(options.helperPath);
  if (!helper.ok) {
    process.stderr.write(`jaid: ${helper.message}\n`);
    process.exitCode = 1;
    return;
  }
  const log = createLogger(options.logLevel);
  let admin: AdminServer | null = null;
  const loaded = PolicyHolder.load(options.policyPath, log, (policy) => {
    admin?.setGroup(adminGid(policy, log));
  });
  if (!loaded.ok) {
    process.stderr.write(`jaid: invalid policy: ${loaded.message}\n`);
    process.exitCode = 1;
    return;
  }
  const policy = loaded.holder;
  const audit = new AuditLog(options.auditDb);
  ensureSandboxAccount(nativeNss, log);
  const prune = (): void => {
    if (options.auditRetentionDays === 0 && options.auditRetentionRows === 0) return;
    let deleted: number;
    try {
      deleted = audit.prune({ maxAgeDays: options.auditRetentionDays, maxRows: options.auditRetentionRows });
    } catch (e) {
      // A full or failing disk must not take the daemon down from a timer; the next run tries again.
      log.error({ err: e }, 'audit retention failed');
      return;
    }
    if (deleted > 0)
      log.info(
        { deleted, days: options.auditRetentionDays, rows: options.auditRetentionRows },
        'audit retention: old sessions deleted',
      );
  };
  prune();
  setInterval(prune, DAY_MS).unref();
  const abandoned = audit.closeAbandoned();
  if (abandoned.length > 0)
    log.warn({ abandoned: abandoned.length }, 'closed audit rows left open by a previous daemon');
  const activation = activationFd(takeActivationEnv(), process.pid);
  if (activation !== null && typeof activation === 'object') {
    process.stderr.write(`jaid: ${activation.error}\n`);
    process.exitCode = 1;
    return;
  }
  const limits = CgroupManager.prepare(log);
  const registry = new SessionRegistry((n) => sdNotify(`STATUS=${n} active session${n === 1 ? '' : 's'}`));
  const metrics = new Metrics();
  const auditGuard = new AuditGuard(audit, options.auditFailure, log, metrics);
  const nssCache = new NssCache(nativeNss, { ttlMs: NSS_CACHE_TTL_MS, maxEntries: 4096, files: NSS_FILES });
  let listener: Listener;
  try {
    listener = new Listener({
      socketPath: options.socketPath,
      inheritedFd: activation,
      socketMode: options.socketMode,
      log,
      context: {
        log,
        audit: auditGuard,
        // Spawns ask NSS several times each; the admin API (rare, and it authorises admins) asks it afresh.
        nss: nssCache,
        helper: helper.binary,
        policy,
        registry,
        metrics,
        cgroups: limits.manager,
        denials: new DenialBudget(),
        sandboxIds: { base: options.sandboxIdBase, count: options.sandboxIdCount },
        limits: new ClientLimits(options.clientLimits),
      },
    });
  } catch (e) {
    process.stderr.write(`jaid: ${e instanceof Error ? e.message : String(e)}\n`);
    audit.close();
    process.exitCode = 1;
    return;
  }
  try {
    admin = await startAdminServer(
      {
        audit,
        auditStatus: () => auditGuard.status(),
        sessions: registry,
        policy,
        limits: limits.status,
        metrics,
        nss: nativeNss,
        log,
        startedAt: new Date(),
        version: VERSION,
      },
      {
        socketPath: options.adminSocketPath,
        socketMode: options.adminSocketMode,
        groupGid: adminGid(policy.current(), log),
      },
    );
  } catch (e) {
    process.stderr.write(`jaid: admin socket: ${e instanceof Error ? e.message : String(e)}\n`);
    await listener.close();
    audit.close();
    process.exitCode = 1;
    return;
  }
  // Only now that this jaid serves the socket (a second one has refused above) are orphaned helpers ours to end.
  const killed = killLeftoverHelpers(log);
  if (killed > 0) log.warn({ killed }, 'killed session helpers a previous jaid left running');
  // From now on session helpers are forked by the zygote (started now, so that the first session does not wait).
  const zygote = options.helperZygote ? new HelperZygote(helper.binary, log, metrics) : null;
  if (zygote !== null) {
    helper.binary.zygote = zygote;
    zygote.start();
  }
  // Their sessions' cgroups go as soon as the killed processes are gone (the sweep would wait 30 s for them).
  for (const id of abandoned) void limits.manager?.remove(id, log);
  const sweep = (): void => {
    const swept = limits.manager?.sweep(log) ?? 0;
    if (swept > 0) log.warn({ swept }, 'removed session cgroups a previous jaid left behind');
  };
  sweep();
  // Once more when the cgroups of a crash just before this start (or of helpers killed above) are old enough.
  setTimeout(sweep, MIN_LEFTOVER_AGE_MS).unref();
  log.info(
    {
      socket: options.socketPath,
      auditDb: options.auditDb,
      auditFailure: options.auditFailure,
      clientLimits: options.clientLimits,
    },
    'jaid ready',
  );
  sdNotify('READY=1');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, sessions: listener.activeConnections }, 'jaid stopping');
    sdNotify('STOPPING=1');
    limits.manager?.close();
    void Promise.all([listener.close(), admin.close()]).then(() => {
      zygote?.close();
      auditGuard.close();
      audit.close();
      log.info('jaid stopped');
    });
  };
  process.on('SIGTERM', () => {
    stop('SIGTERM');
  });
  process.on('SIGINT', () => {
    stop('SIGINT');
  });
  process.on('SIGHUP', () => {
    log.info('SIGHUP: reloading the policy, forgetting cached user and group lookups');
    nssCache.clear();
    const result = policy.reload();
    try {
      audit.recordAdminAction({
        actorUid: 0,
        actorUser: 'SIGHUP',
        action: 'reload',
        target: policy.current().source,
        result: result.ok ? 'ok' : 'invalid',
        detail: result.ok ? '' : result.message,
      });
    } catch (e) {
      log.error({ err: e }, 'audit write failed for the policy reload');
    }
  });
}

void main();

// jaid: composition root only.
import { AuditLog } from './audit/audit-log';
import { checkHelperBinary } from './helper-binary';
import { createLogger } from './log';
import { nativeNss } from './nss';
import { ensureSandboxAccount } from './sandbox-account';
import { sdNotify } from './notify';
import { LOG_LEVELS, USAGE, defaultHelperPath, parseDaemonArgs, type LogLevel } from './options';
import { Listener } from './server/listener';
import { killLeftoverHelpers } from './session/leftovers';
import { activationFd, takeActivationEnv } from './server/socket-activation';

const isLogLevel = (v: string | undefined): v is LogLevel => LOG_LEVELS.some((l) => l === v);
const DAY_MS = 24 * 60 * 60 * 1000;

function main(): void {
  const parsed = parseDaemonArgs(process.argv.slice(2), {
    socketPath: process.env['JAI_SOCKET'] ?? '/run/jai/jaid.sock',
    socketMode: 0o666,
    auditDb: '/var/lib/jai/audit.db',
    helperPath: defaultHelperPath(__dirname),
    logLevel: isLogLevel(process.env['JAID_LOG_LEVEL']) ? process.env['JAID_LOG_LEVEL'] : 'info',
    auditRetentionDays: 0,
  });
  if (!parsed.ok) {
    process.stderr.write(`jaid: ${parsed.message}\n${USAGE}`);
    process.exitCode = 2;
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
  const helperProblem = checkHelperBinary(options.helperPath);
  if (helperProblem !== null) {
    process.stderr.write(`jaid: ${helperProblem}\n`);
    process.exitCode = 1;
    return;
  }
  const log = createLogger(options.logLevel);
  const audit = new AuditLog(options.auditDb);
  ensureSandboxAccount(nativeNss, log);
  const prune = (): void => {
    if (options.auditRetentionDays === 0) return;
    const deleted = audit.pruneEndedBefore(new Date(Date.now() - options.auditRetentionDays * DAY_MS));
    if (deleted > 0) log.info({ deleted, days: options.auditRetentionDays }, 'audit retention: old sessions deleted');
  };
  prune();
  setInterval(prune, DAY_MS).unref();
  const abandoned = audit.closeAbandoned();
  if (abandoned > 0) log.warn({ abandoned }, 'closed audit rows left open by a previous daemon');
  const activation = activationFd(takeActivationEnv(), process.pid);
  if (activation !== null && typeof activation === 'object') {
    process.stderr.write(`jaid: ${activation.error}\n`);
    process.exitCode = 1;
    return;
  }
  let listener: Listener;
  try {
    listener = new Listener({
      socketPath: options.socketPath,
      inheritedFd: activation,
      socketMode: options.socketMode,
      log,
      context: { log, audit, nss: nativeNss, helperPath: options.helperPath },
      onActivity: (connections) => sdNotify(`STATUS=${connections} active connection${connections === 1 ? '' : 's'}`),
    });
  } catch (e) {
    process.stderr.write(`jaid: ${e instanceof Error ? e.message : String(e)}\n`);
    audit.close();
    process.exitCode = 1;
    return;
  }
  // Only now that this jaid serves the socket (a second one has refused above) are orphaned helpers ours to end.
  const killed = killLeftoverHelpers(log);
  if (killed > 0) log.warn({ killed }, 'killed session helpers a previous jaid left running');
  log.info({ socket: options.socketPath, auditDb: options.auditDb }, 'jaid ready');
  sdNotify('READY=1');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, sessions: listener.activeConnections }, 'jaid stopping');
    sdNotify('STOPPING=1');
    void listener.close().then(() => {
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
    log.info('SIGHUP: nothing to reload yet');
  });
}

main();

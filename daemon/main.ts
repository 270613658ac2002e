// jaid: composition root only.
import { AuditLog } from './audit/audit-log';
import { checkHelperBinary } from './helper-binary';
import { createLogger } from './log';
import { nativeNss } from './nss';
import { ensureSandboxAccount } from './sandbox-account';
import { sdNotify } from './notify';
import { USAGE, defaultHelperPath, parseDaemonArgs } from './options';
import { Listener } from './server/listener';
import { killLeftoverHelpers } from './session/leftovers';
import { activationFd, takeActivationEnv } from './server/socket-activation';

function main(): void {
  const parsed = parseDaemonArgs(process.argv.slice(2), {
    socketPath: process.env['JAI_SOCKET'] ?? '/run/jai/jaid.sock',
    auditDb: '/var/lib/jai/audit.db',
    helperPath: defaultHelperPath(__dirname),
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
  const log = createLogger();
  const audit = new AuditLog(options.auditDb);
  ensureSandboxAccount(nativeNss, log);
  const abandoned = audit.closeAbandoned();
  if (abandoned > 0) log.warn({ abandoned }, 'closed audit rows left open by a previous daemon');
  const activation = activationFd(takeActivationEnv(), process.pid);
  if (activation !== null && typeof activation === 'object') {
    process.stderr.write(`jaid: ${activation.error}\n`);
    process.exitCode = 1;
    return;
  }
  const killed = killLeftoverHelpers(log);
  if (killed > 0) log.warn({ killed }, 'killed session helpers a previous jaid left running');
  let listener: Listener;
  try {
    listener = new Listener({
      socketPath: options.socketPath,
      inheritedFd: activation,
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

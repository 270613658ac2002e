// jaid: composition root only.
import { AuditLog } from './audit/audit-log';
import { checkHelperBinary } from './helper-binary';
import { createLogger } from './log';
import { nativeNss } from './nss';
import { ensureSandboxAccount } from './sandbox-account';
import { sdNotify } from './notify';
import { USAGE, defaultHelperPath, parseDaemonArgs } from './options';
import { Listener } from './server/listener';

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
  const listener = new Listener({
    socketPath: options.socketPath,
    log,
    context: { log, audit, nss: nativeNss, helperPath: options.helperPath },
  });
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

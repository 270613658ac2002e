// Starts test/helpers/limit-clients.ts modes as a test user and reads their one-line JSON reports.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO, type TestUser } from './fixture';

const CLIENTS = path.join(REPO, 'dist/test/helpers/limit-clients.js');

export interface ClientReport {
  counts: Record<string, number>;
  [key: string]: unknown;
}

/**
 * Runs a limit-clients mode as `user` (cwd: `cwd`, default the user's home); `nice`: at nice 19, as a stand-in for
 * the per-user CPU share a login session's slice gives on a real host.
 */
export function startClient(user: TestUser, args: readonly string[], cwd = user.home, nice = false): ChildProcess {
  const command = [process.execPath, CLIENTS, ...args];
  return spawn(nice ? 'nice' : process.execPath, nice ? ['-n', '19', ...command] : command.slice(1), {
    uid: user.uid,
    gid: user.gid,
    cwd,
    env: { PATH: '/usr/bin:/bin', HOME: user.home },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** The first JSON line the client prints. */
export function reportOf(child: ChildProcess, timeoutMs = 30_000): Promise<ClientReport> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      reject(new Error(`no report within ${String(timeoutMs)} ms: ${out} ${err}`));
    }, timeoutMs);
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (line === undefined || !out.includes('\n')) return;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line) as ClientReport);
      } catch (e) {
        reject(new Error(`bad report ${line}: ${String(e)} ${err}`));
      }
    });
    // At 'close', not 'exit': by then everything the client printed has been read.
    child.on('close', (code) => {
      if (!out.includes('\n')) {
        clearTimeout(timer);
        reject(new Error(`client exited ${String(code)} without a report: ${err}`));
      }
    });
  });
}

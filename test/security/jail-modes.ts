// What the security tests share: the three jail modes every in-jail probe is looped over, and small helpers to run
// a probe in one of them and to wait for a session.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { runJai, type Fixture, type RunOptions } from '../helpers/fixture';

export const MODES = ['casual', 'strict', 'bare'] as const;
export type Mode = (typeof MODES)[number];

/** Where a mode keeps the jail's home on the host (relative to ~/.jai): the overlay's upper dir or the private home. */
export function homeStore(mode: Mode, jail = 'default'): string {
  return mode === 'casual' ? `${jail}.changes` : `${jail}.home`;
}

/** Runs `sh -c SCRIPT` in the default jail in MODE, as the fixture's user; fails the test when jai itself fails. */
export function probe(
  f: Fixture,
  mode: Mode,
  script: string,
  options: RunOptions & { extraArgs?: readonly string[] } = {},
): { status: number | null; stdout: string; stderr: string } {
  const r = runJai(f, ['-m', mode, ...(options.extraArgs ?? []), 'sh', '-c', script], options);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `python3 -c SCRIPT ARGS…` on the host as the fixture's user (a racer beside the sessions); its stdout so far. */
export function pythonAsUser(
  f: Fixture,
  script: string,
  args: readonly string[],
): { child: ChildProcess; out: () => string } {
  const child = spawn('python3', ['-c', script, ...args], {
    uid: f.user.uid,
    gid: f.user.gid,
    env: { PATH: '/usr/bin:/bin' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return { child, out: () => out };
}

/** Resolves when the child exits (at once if it already has). */
export function ended(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Whether a process exists on the host. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Makes sure a second unprivileged test user exists (for cross-user probes). */
export function ensureSecondUser(name: string): void {
  if (spawnSync('getent', ['passwd', name]).status !== 0)
    spawnSync('useradd', ['--create-home', '--shell', '/bin/bash', name]);
}

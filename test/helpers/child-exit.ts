// How a child ended: one started by the addon (spawn, or a zygote's fork), watched through its pidfd as jaid does;
// or a node ChildProcess whose output a test reads.
import type { ChildProcess } from 'node:child_process';
import * as native from '../../native/addon/index';

/** Resolves with how the child ended; it is reaped and its pidfd closed by then. */
export function exited(child: native.Spawned): Promise<native.ChildExit> {
  return new Promise((resolve) => {
    const watcher = native.watch(child.pidfd, () => {
      const exit = native.pidfdWait(child.pidfd);
      if (exit === null) return;
      watcher.close();
      native.closeFd(child.pidfd);
      resolve(exit);
    });
    watcher.start('r');
  });
}

/**
 * The exit code (null after a signal) of a ChildProcess once it has exited and its stdio pipes are closed: unlike
 * at 'exit', everything it wrote has been read by then.
 */
export function closed(child: ChildProcess): Promise<number | null> {
  const exited = child.exitCode !== null || child.signalCode !== null;
  if (exited && [child.stdout, child.stderr].every((s) => s === null || s.destroyed))
    return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('close', (code: number | null) => resolve(code)));
}

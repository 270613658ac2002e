// How a child started by the addon (spawn, or a zygote's fork) ended, watched through its pidfd as jaid does.
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

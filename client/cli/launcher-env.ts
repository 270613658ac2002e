// bin/jai is a shell launcher: NODE_EXTRA_CA_CERTS makes every node start parse a certificate bundle (~40 ms on the
// workstations jai is for), and the client does no TLS, so the launcher moves the variable aside before it starts
// node and the client puts it back, first thing, into the environment the jailed program inherits. Pure.

/** Set by bin/jai: `unset` when the user had no NODE_EXTRA_CA_CERTS, `set:VALUE` when they had (VALUE may be ""). */
export const SAVED_VARIABLE = 'JAI_LAUNCHER_NODE_EXTRA_CA_CERTS';
export const MOVED_VARIABLE = 'NODE_EXTRA_CA_CERTS';

/**
 * Restores NODE_EXTRA_CA_CERTS as the user had it and removes the launcher's variable. Without the launcher's
 * variable (jai started as `node bin/jai`), the environment is left as it is. A malformed value is dropped.
 */
export function restoreLauncherEnv(env: Record<string, string | undefined>): void {
  const saved = env[SAVED_VARIABLE];
  if (saved === undefined) return;
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the variable's name is a constant
  delete env[SAVED_VARIABLE];
  if (saved.startsWith('set:')) env[MOVED_VARIABLE] = saved.slice('set:'.length);
  else if (saved === 'unset')
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the variable's name is a constant
    delete env[MOVED_VARIABLE];
}

// `jaictl policy check FILE` runs the daemon's own policy loader, in this process and without the daemon, so
// that a file it accepts is exactly a file jaid will load. The loader (daemon/policy/load.ts) and its TOML parser
// are loaded only for this command.
import type { Policy } from '../../daemon/policy/types';

export type PolicyLoadResult = { ok: true; policy: Policy } | { ok: false; message: string };
export type PolicyChecker = (file: string) => PolicyLoadResult;

/** Compiled next to the daemon: dist/client/ctl/ → dist/daemon/policy/load.js. */
const LOADER = '../../daemon/policy/load';

function isChecker(value: unknown): value is PolicyChecker {
  return typeof value === 'function';
}

/** The real loader, or why it cannot be used (an installation without the daemon's modules). */
export function loadPolicyChecker(): { ok: true; check: PolicyChecker } | { ok: false; message: string } {
  let loaded: unknown;
  try {
    // Lazy on purpose: no other command needs the loader or smol-toml.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require(LOADER);
  } catch (e: unknown) {
    const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return { ok: false, message: `cannot load the policy loader: ${reason ?? ''}` };
  }
  const check: unknown =
    typeof loaded === 'object' && loaded !== null && 'loadPolicyFile' in loaded ? loaded.loadPolicyFile : undefined;
  if (!isChecker(check)) return { ok: false, message: 'cannot load the policy loader: no loadPolicyFile in it' };
  return { ok: true, check: (file) => check(file) };
}

// The untrusted account strict mode runs as (upstream's rules): uid ≠ 0, GECOS exactly
// "JAI sandbox untrusted user", home "/". Checked per request, so an admin's fix needs no restart.
// Each user's strict jails run under that account's name but with ids of their own (threat model #25): uid and gid
// base + the user's uid, from a reserved range no passwd or group entry may use (checked per request too).
import { execFileSync } from 'node:child_process';
import type { Logger } from './log';
import type { NssLookup, PasswdEntry } from './server/peer';

export const SANDBOX_USER = 'jai';
export const SANDBOX_GECOS = 'JAI sandbox untrusted user';

export interface SandboxAccount {
  name: string;
  uid: number;
  gid: number;
}

/** jaid's --sandbox-id-base and --sandbox-id-count. */
export interface SandboxIdRange {
  base: number;
  count: number;
}

/** A user's strict-mode identity: the account's name, the user's own ids, and the range they come from. */
export interface SandboxIdentity extends SandboxAccount {
  range: SandboxIdRange;
}

export type AccountCheck = { ok: true; account: SandboxAccount } | { ok: false; reason: 'missing' | 'invalid' };

export type SandboxCheck =
  | { ok: true; sandbox: SandboxIdentity }
  | { ok: false; reason: 'missing' | 'invalid' | 'own-account' }
  | { ok: false; reason: 'out-of-range' | 'id-taken'; message: string };

export function checkSandboxAccount(entry: PasswdEntry | null): AccountCheck {
  if (entry === null) return { ok: false, reason: 'missing' };
  if (entry.uid === 0 || entry.gid === 0 || entry.gecos !== SANDBOX_GECOS || entry.dir !== '/')
    return { ok: false, reason: 'invalid' };
  return { ok: true, account: { name: entry.name, uid: entry.uid, gid: entry.gid } };
}

export const STRICT_REFUSAL = `Cannot use strict mode: invalid user ${SANDBOX_USER}`;

/**
 * The sandbox identity of the user with uid `uid` (never root: refused before), given the checked `jai` account.
 * Refused when the uid is outside the range, or when a passwd or group entry has the id: strict mode would then run
 * as someone real. Fails closed: a lookup that throws (NSS unavailable) refuses as well.
 */
export function sandboxIdentityFor(
  uid: number,
  account: AccountCheck,
  range: SandboxIdRange,
  nss: Pick<NssLookup, 'getpwuid' | 'getgrgid'>,
): SandboxCheck {
  if (!account.ok) return account;
  // The untrusted account running its own sandbox would only separate it from itself.
  if (account.account.uid === uid) return { ok: false, reason: 'own-account' };
  if (!Number.isSafeInteger(uid) || uid < 0 || uid >= range.count)
    return {
      ok: false,
      reason: 'out-of-range',
      message: `Cannot use strict mode: uid ${uid} is outside the sandbox id range (jaid --sandbox-id-count ${range.count})`,
    };
  const id = range.base + uid;
  let taken: string | null;
  try {
    const user = nss.getpwuid(id);
    const group = user === null ? nss.getgrgid(id) : null;
    taken = user !== null ? `user ${user.name}` : group !== null ? `group ${group.name}` : null;
  } catch (e) {
    taken = `a lookup that failed (${e instanceof Error ? e.message : String(e)})`;
  }
  if (taken !== null)
    return {
      ok: false,
      reason: 'id-taken',
      message: `Cannot use strict mode: sandbox id ${id} (jaid --sandbox-id-base ${range.base} + uid ${uid}) is taken by ${taken}`,
    };
  return { ok: true, sandbox: { name: account.account.name, uid: id, gid: id, range } };
}
export const ACCOUNT_WARNING = `Ignoring user ${SANDBOX_USER} because uid is 0, home dir is not "/", or GECOS field is not "${SANDBOX_GECOS}"`;

/** At start-up: creates the account when it is missing (as the install step does), warns when it is wrong. */
export function ensureSandboxAccount(nss: NssLookup, log: Logger): AccountCheck {
  let check = checkSandboxAccount(nss.getpwnam(SANDBOX_USER));
  if (!check.ok && check.reason === 'missing') {
    try {
      execFileSync(
        'useradd',
        [
          '--system',
          '--no-create-home',
          '--home-dir',
          '/',
          '--shell',
          '/usr/sbin/nologin',
          '--comment',
          SANDBOX_GECOS,
          SANDBOX_USER,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } },
      );
      log.info({ user: SANDBOX_USER }, 'created the strict-mode account');
    } catch (e) {
      log.error({ err: e }, `cannot create the ${SANDBOX_USER} account; strict mode unavailable`);
    }
    check = checkSandboxAccount(nss.getpwnam(SANDBOX_USER));
  }
  if (!check.ok && check.reason === 'invalid') log.warn(ACCOUNT_WARNING);
  return check;
}

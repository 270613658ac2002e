// The untrusted account strict mode runs as (upstream's rules): uid ≠ 0, GECOS exactly
// "JAI sandbox untrusted user", home "/". Checked per request, so an admin's fix needs no restart.
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

export type AccountCheck = { ok: true; account: SandboxAccount } | { ok: false; reason: 'missing' | 'invalid' };

export function checkSandboxAccount(entry: PasswdEntry | null): AccountCheck {
  if (entry === null) return { ok: false, reason: 'missing' };
  if (entry.uid === 0 || entry.gid === 0 || entry.gecos !== SANDBOX_GECOS || entry.dir !== '/')
    return { ok: false, reason: 'invalid' };
  return { ok: true, account: { name: entry.name, uid: entry.uid, gid: entry.gid } };
}

export const STRICT_REFUSAL = `Cannot use strict mode: invalid user ${SANDBOX_USER}`;
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

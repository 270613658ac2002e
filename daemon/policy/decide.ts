// The policy decision point. For now the built-in policy: every mode, never root. The admin policy file (its own
// issue) plugs in here as decide(identity, request, policy).
import { failure, type Failure } from '../errors';
import type { AccountCheck, SandboxAccount } from '../sandbox-account';
import { STRICT_REFUSAL } from '../sandbox-account';
import type { Identity } from '../server/peer';
import type { ValidRequest } from '../server/validate';

export interface Decision {
  ok: true;
  /** The rule that allowed the session, for the audit record. */
  rule: string;
  /** The account a strict session runs as. */
  sandbox: SandboxAccount | null;
}

export function decide(identity: Identity, request: ValidRequest, account: AccountCheck): Decision | Failure {
  if (identity.uid === 0) return failure('POLICY_DENIED', 'sandboxes never run as root');
  if (request.mode !== 'strict') return { ok: true, rule: 'builtin', sandbox: null };
  if (!account.ok) return failure('MODE_UNSUPPORTED', STRICT_REFUSAL);
  // The untrusted account running its own sandbox would map itself onto itself: nothing to separate.
  if (account.account.uid === identity.uid) return failure('POLICY_DENIED', `${identity.user} cannot use strict mode`);
  return { ok: true, rule: 'builtin', sandbox: account.account };
}

// The policy decision point. For now the built-in policy: every mode, never root. The admin policy file (its own
// issue) plugs in here as decide(identity, request, policy).
import { failure, type Failure } from '../errors';
import type { SandboxCheck, SandboxIdentity } from '../sandbox-account';
import { STRICT_REFUSAL } from '../sandbox-account';
import type { Identity } from '../server/peer';
import type { ValidRequest } from '../server/validate';

export interface Decision {
  ok: true;
  /** The rule that allowed the session, for the audit record. */
  rule: string;
  /** The identity a strict session runs as: the `jai` account's name with the user's own sandbox ids. */
  sandbox: SandboxIdentity | null;
}

export function decide(identity: Identity, request: ValidRequest, sandbox: SandboxCheck): Decision | Failure {
  if (identity.uid === 0) return failure('POLICY_DENIED', 'sandboxes never run as root');
  if (request.mode !== 'strict') return { ok: true, rule: 'builtin', sandbox: null };
  if (sandbox.ok) return { ok: true, rule: 'builtin', sandbox: sandbox.sandbox };
  switch (sandbox.reason) {
    case 'missing':
    case 'invalid':
      return failure('MODE_UNSUPPORTED', STRICT_REFUSAL);
    case 'own-account':
      return failure('POLICY_DENIED', `${identity.user} cannot use strict mode`);
    case 'out-of-range':
    case 'id-taken':
      return failure('MODE_UNSUPPORTED', sandbox.message);
  }
}

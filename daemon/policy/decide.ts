// The policy decision point. For now the built-in policy: casual mode only. The admin policy file (its own
// issue) plugs in here as decide(identity, request, policy).
import { failure, type Failure } from '../errors';
import type { Identity } from '../server/peer';
import type { ValidRequest } from '../server/validate';

export interface Decision {
  ok: true;
  /** The rule that allowed the session, for the audit record. */
  rule: string;
}

export function decide(identity: Identity, request: ValidRequest): Decision | Failure {
  if (request.mode !== 'casual')
    return failure('MODE_UNSUPPORTED', `${request.mode} mode is not available in this version of jaid`);
  if (identity.uid === 0) return failure('POLICY_DENIED', 'sandboxes never run as root');
  return { ok: true, rule: 'builtin' };
}

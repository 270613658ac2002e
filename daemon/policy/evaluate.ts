// The admin policy's decision for one session request (docs/policy.md, "Decisions"). Pure: the caller brings the
// subject's names from NSS and the count of its live sessions, and formats `jai: <reason> (policy rule <name>)`.
import { formatSize } from '../../common/units';
import { compileGlob } from '../../common/glob';
import type { Mode } from '../server/validate';
import { NETWORK_MODES, type Limits, type NetworkMode, type Policy, type PolicySettings } from './types';

export interface Subject {
  user: string;
  uid: number;
  /** The names of the primary and every supplementary group. */
  groupNames: readonly string[];
}

export interface SessionAsk {
  mode: Mode;
  /** null: the most the rule allows. */
  network: NetworkMode | null;
  /** What the user asked; a null field takes the ceiling. */
  limits: Limits;
  /** Every path the session would see writable or read-only, the cwd grant included when there is one. */
  grants: readonly { path: string; readOnly: boolean }[];
}

export interface Allowed {
  ok: true;
  rule: string;
  network: NetworkMode;
  allowUserns: boolean;
  allowKeyring: boolean;
  limits: Limits;
  masks: string[];
  unsetenv: string[];
  maxSessions: number;
}

export interface Denied {
  ok: false;
  rule: string;
  code: 'POLICY_DENIED' | 'SESSION_LIMIT';
  reason: string;
}

export interface MatchedRule {
  /** The rule's name, or `defaults` when none matched. */
  name: string;
  /** The defaults with the rule's own fields merged in. */
  settings: PolicySettings;
  deny: boolean;
}

export const DEFAULTS_RULE = 'defaults';

/** Rule fields over the defaults: scalars replace, lists add (defaults first, no repeats), limits per field. */
function merge(defaults: PolicySettings, overrides: Policy['rules'][number]['overrides']): PolicySettings {
  const add = (base: readonly string[], more: readonly string[] | undefined): string[] => [
    ...new Set([...base, ...(more ?? [])]),
  ];
  return {
    allowModes: overrides.allowModes ?? defaults.allowModes,
    maxSessions: overrides.maxSessions ?? defaults.maxSessions,
    network: overrides.network ?? defaults.network,
    allowUserns: overrides.allowUserns ?? defaults.allowUserns,
    allowKeyring: overrides.allowKeyring ?? defaults.allowKeyring,
    denyGrants: add(defaults.denyGrants, overrides.denyGrants),
    masks: add(defaults.masks, overrides.masks),
    unsetenv: add(defaults.unsetenv, overrides.unsetenv),
    limits: { ...defaults.limits, ...overrides.limits },
  };
}

/** The first rule naming the user or one of the user's groups; else the defaults. */
export function matchRule(policy: Policy, subject: Subject): MatchedRule {
  for (const rule of policy.rules) {
    if (rule.users.includes(subject.user) || rule.groups.some((g) => subject.groupNames.includes(g)))
      return { name: rule.name, settings: merge(policy.defaults, rule.overrides), deny: rule.deny };
  }
  return { name: DEFAULTS_RULE, settings: merge(policy.defaults, {}), deny: false };
}

/** At or below `base` by whole components: `/etc/x` is below `/etc`, `/etcetera` is not; everything is below `/`. */
export function isAtOrBelow(path: string, base: string): boolean {
  return base === '/' || path === base || path.startsWith(`${base}/`);
}

const rank = (network: NetworkMode): number => NETWORK_MODES.indexOf(network);

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

interface LimitKind {
  key: keyof Limits;
  label: string;
  show: (n: number) => string;
}

const LIMIT_KINDS: readonly LimitKind[] = [
  { key: 'memoryBytes', label: 'memory', show: formatSize },
  { key: 'pids', label: 'pids', show: String },
  { key: 'cpu', label: 'cpu', show: String },
];

/**
 * Whether the subject may start this session now, and with what. The checks run in the documented order, so
 * the reason a user sees is always the first thing wrong.
 */
export function evaluate(policy: Policy, subject: Subject, ask: SessionAsk, activeSessions: number): Allowed | Denied {
  const { name: rule, settings, deny } = matchRule(policy, subject);
  const denied = (reason: string, code: Denied['code'] = 'POLICY_DENIED'): Denied => ({
    ok: false,
    rule,
    code,
    reason,
  });

  if (deny) return denied(`sandboxes are disabled for ${subject.user}`);

  if (!settings.allowModes.includes(ask.mode))
    return denied(`mode ${ask.mode} is not allowed (allowed: ${settings.allowModes.join(', ')})`);

  if (activeSessions >= settings.maxSessions) {
    if (settings.maxSessions === 0)
      return denied(`${subject.user} may not have any session (at most 0)`, 'SESSION_LIMIT');
    return denied(
      `${subject.user} already has ${plural(activeSessions, 'session')} (at most ${settings.maxSessions})`,
      'SESSION_LIMIT',
    );
  }

  const network = ask.network ?? settings.network;
  if (rank(network) > rank(settings.network))
    return denied(`network ${network} is not allowed (at most ${settings.network})`);

  // Read-only grants too: a denied tree is one the admin does not want agents reading from the user's side either.
  // A grant of an ancestor would expose the denied tree as well (`/data` when `/data/pii` is denied).
  for (const grant of ask.grants) {
    const base = settings.denyGrants.find((d) => isAtOrBelow(grant.path, d));
    if (base !== undefined) return denied(`grant ${grant.path} is denied (deny_grants ${base})`);
    const inside = settings.denyGrants.find((d) => isAtOrBelow(d, grant.path));
    if (inside !== undefined) return denied(`grant ${grant.path} is denied: it contains deny_grants ${inside}`);
  }

  const limits: Limits = { memoryBytes: null, pids: null, cpu: null };
  for (const { key, label, show } of LIMIT_KINDS) {
    const asked = ask.limits[key];
    const ceiling = settings.limits[key];
    if (asked !== null && ceiling !== null && asked > ceiling)
      return denied(`${label} ${show(asked)} is over the ceiling ${show(ceiling)}`);
    limits[key] = asked ?? ceiling;
  }

  return {
    ok: true,
    rule,
    network,
    allowUserns: settings.allowUserns,
    allowKeyring: settings.allowKeyring,
    limits,
    masks: [...settings.masks],
    unsetenv: [...settings.unsetenv],
    maxSessions: settings.maxSessions,
  };
}

/**
 * The environment without the entries whose NAME is one of `patterns`: a pattern with `*` is a glob (as jai's
 * --unsetenv), any other is an exact name.
 */
export function filterEnv(env: readonly string[], patterns: readonly string[]): string[] {
  const exact = new Set(patterns.filter((p) => !p.includes('*')));
  const globs = patterns.filter((p) => p.includes('*')).map(compileGlob);
  return env.filter((entry) => {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    return !exact.has(name) && !globs.some((matches) => matches(name));
  });
}

/** Root, or a member (primary or supplementary) of admin_group when the policy names one. */
export function isAdmin(policy: Policy, uid: number, groupNames: readonly string[]): boolean {
  return uid === 0 || (policy.adminGroup !== null && groupNames.includes(policy.adminGroup));
}

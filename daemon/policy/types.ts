// The admin policy's shape (docs/policy.md): what /etc/jai/policy.toml says once parsed and validated.
import type { Mode } from '../server/validate';

/** From the least to the most access; a session may ask for less than its rule allows, never more. */
export const NETWORK_MODES = ['none', 'loopback', 'host'] as const;
export type NetworkMode = (typeof NETWORK_MODES)[number];

/** Per-session ceilings (or requests); null: no limit. */
export interface Limits {
  memoryBytes: number | null;
  pids: number | null;
  /** CPUs' worth of time (2.0 = two full cores). */
  cpu: number | null;
}

export interface PolicySettings {
  allowModes: readonly Mode[];
  maxSessions: number;
  network: NetworkMode;
  /** The program may create user namespaces (nested sandboxes, browsers' own sandboxes); false: seccomp refuses. */
  allowUserns: boolean;
  /** The program may use the kernel's key syscalls (the user keyring is the user's in casual and bare mode). */
  allowKeyring: boolean;
  /** Canonical absolute paths: a grant at or below one is refused. */
  denyGrants: readonly string[];
  /** Relative paths whited out in every new casual overlay. */
  masks: readonly string[];
  /** Names or `*` patterns removed from every session's environment. */
  unsetenv: readonly string[];
  limits: Limits;
}

export interface PolicyRule {
  name: string;
  users: readonly string[];
  groups: readonly string[];
  deny: boolean;
  /** The rule's own fields: scalars override the defaults, lists add to them; limits override per field. */
  overrides: Partial<Omit<PolicySettings, 'limits'>> & { limits?: Partial<Limits> };
}

export interface Policy {
  /** The file it came from; null for the built-in defaults (no file). */
  source: string | null;
  adminGroup: string | null;
  defaults: PolicySettings;
  rules: readonly PolicyRule[];
}

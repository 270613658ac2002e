// The policy in force: loaded at start (an invalid file stops jaid), replaced on reload only by a valid one.
import fs from 'node:fs';
import type { PolicyControl } from '../admin/context';
import type { Logger } from '../log';
import { DEFAULT_POLICY_PATH, builtinPolicy, loadPolicyFile } from './load';
import type { Policy } from './types';

export class PolicyHolder implements PolicyControl {
  private policy: Policy;
  private loaded = new Date();

  private constructor(
    private readonly file: string,
    private readonly explicit: boolean,
    private readonly log: Logger,
    initial: Policy,
    private readonly onChange: (policy: Policy) => void,
  ) {
    this.policy = initial;
  }

  /**
   * The file named by --policy must exist; the default path may be absent (then the built-in defaults apply).
   * An error is the loader's message (file, line, key).
   */
  static load(
    file: string | null,
    log: Logger,
    onChange: (policy: Policy) => void = () => undefined,
  ): { ok: true; holder: PolicyHolder } | { ok: false; message: string } {
    const path = file ?? DEFAULT_POLICY_PATH;
    const initial = PolicyHolder.read(path, file !== null);
    if (!initial.ok) return initial;
    return { ok: true, holder: new PolicyHolder(path, file !== null, log, initial.policy, onChange) };
  }

  private static read(path: string, explicit: boolean): { ok: true; policy: Policy } | { ok: false; message: string } {
    if (!explicit && !fs.existsSync(path)) return { ok: true, policy: builtinPolicy() };
    return loadPolicyFile(path);
  }

  current(): Policy {
    return this.policy;
  }

  loadedAt(): Date {
    return this.loaded;
  }

  reload(): { ok: true } | { ok: false; message: string } {
    const next = PolicyHolder.read(this.file, this.explicit);
    if (!next.ok) {
      this.log.error({ error: next.message }, 'policy reload failed; the previous policy stays in force');
      return next;
    }
    this.policy = next.policy;
    this.loaded = new Date();
    this.log.info(
      { source: next.policy.source ?? '(built-in defaults)', rules: next.policy.rules.length },
      'policy reloaded',
    );
    this.onChange(next.policy);
    return { ok: true };
  }
}

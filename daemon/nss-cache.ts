// NSS answers kept between spawns. getgrouplist alone is ~0.1 ms per spawn (nss-systemd probes its userdb
// directories each time); a spawn asks for the user, their groups, the policy's groups and, in strict mode, the
// sandbox account and the sandbox id.
//
// Invalidation: every answer is dropped as soon as /etc/passwd, /etc/group or /etc/nsswitch.conf differ in any way
// (useradd, usermod and groupadd replace the file, so its inode changes) — checked once per synchronous run of
// lookups (one admission), so an edit is seen by the very next request. Answers from other sources (systemd's
// userdb, LDAP through sssd) change no file here: they live at most `ttlMs`, or until SIGHUP. A lookup that throws is
// not cached.
import fs from 'node:fs';
import type { GroupEntry, NssLookup, PasswdEntry } from './server/peer';

/** The files whose change drops every cached answer. */
export const NSS_FILES: readonly string[] = ['/etc/passwd', '/etc/group', '/etc/nsswitch.conf'];

export interface NssCacheOptions {
  /** How long an answer lives at most (sources other than files). */
  ttlMs: number;
  /** At most this many answers; past it the cache starts again empty. */
  maxEntries: number;
  /** Files whose change drops every answer. */
  files: readonly string[];
  /** A string that changes whenever the file does ('' when it is missing). */
  fileSignature?: (file: string) => string;
  now?: () => number;
  /** Runs `then` once the current synchronous run is over (a microtask). */
  afterThisRun?: (then: () => void) => void;
}

interface Cached {
  at: number;
  value: unknown;
}

function statSignature(file: string): string {
  const st = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  if (st === undefined) return '';
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

export class NssCache implements NssLookup {
  private readonly answers = new Map<string, Cached>();
  private signature: string | null = null;
  private checkedThisRun = false;
  private readonly fileSignature: (file: string) => string;
  private readonly now: () => number;
  private readonly afterThisRun: (then: () => void) => void;

  constructor(
    private readonly source: NssLookup,
    private readonly options: NssCacheOptions,
  ) {
    this.fileSignature = options.fileSignature ?? statSignature;
    // Monotonic: a wall clock stepped back (NTP at boot) would keep answers alive for as long as the step.
    this.now = options.now ?? (() => performance.now());
    this.afterThisRun = options.afterThisRun ?? queueMicrotask;
  }

  getpwuid(uid: number): PasswdEntry | null {
    return this.lookup(`u${uid}`, () => this.source.getpwuid(uid));
  }

  getpwnam(name: string): PasswdEntry | null {
    return this.lookup(`n${name}`, () => this.source.getpwnam(name));
  }

  getgrouplist(name: string, gid: number): number[] {
    // A copy: callers own the array they get.
    return this.lookup(`l${gid}:${name}`, () => this.source.getgrouplist(name, gid)).slice();
  }

  getgrnam(name: string): GroupEntry | null {
    return this.lookup(`g${name}`, () => this.source.getgrnam(name));
  }

  getgrgid(gid: number): GroupEntry | null {
    return this.lookup(`i${gid}`, () => this.source.getgrgid(gid));
  }

  /** Drops every answer (SIGHUP: an admin who changed users in a directory service reloads jaid). */
  clear(): void {
    this.answers.clear();
  }

  private lookup<T>(key: string, ask: () => T): T {
    this.revalidate();
    const now = this.now();
    const cached = this.answers.get(key);
    if (cached !== undefined && now - cached.at < this.options.ttlMs) return cached.value as T;
    const value = ask();
    if (this.answers.size >= this.options.maxEntries) this.answers.clear();
    // Entries are frozen so that no caller can change what the next one is told.
    this.answers.set(key, {
      at: now,
      value: value !== null && typeof value === 'object' ? Object.freeze(value) : value,
    });
    return value;
  }

  /** The files are compared once per synchronous run of lookups, not once per lookup. */
  private revalidate(): void {
    if (this.checkedThisRun) return;
    this.checkedThisRun = true;
    this.afterThisRun(() => (this.checkedThisRun = false));
    const signature = this.options.files.map((file) => this.fileSignature(file)).join('|');
    if (signature !== this.signature) {
      this.answers.clear();
      this.signature = signature;
    }
  }
}

// A throw-away home directory for resolving jai command lines against real files (no root needed).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nodeResolveFs } from '../../client/cli/node-fs';
import {
  resolveInvocation,
  type Invocation,
  type ResolveContext,
  type RunInvocation,
  type TeardownInvocation,
} from '../../client/cli/resolve';

export const UID = process.getuid?.() ?? 0;

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  uid?: number;
  loginShell?: string;
  umask?: number;
}

export class CliFixture {
  readonly root: string;
  readonly home: string;
  /** The default cwd: $HOME/proj. */
  readonly proj: string;
  readonly cfg: string;
  /** Informational lines of the last run. */
  lines: string[] = [];

  constructor() {
    this.root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'jai-cli-')));
    this.home = path.join(this.root, 'home');
    this.proj = path.join(this.home, 'proj');
    this.cfg = path.join(this.home, '.jai');
    fs.mkdirSync(this.proj, { recursive: true });
  }

  cleanup(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  /** Writes a file under the fixture root (relative paths are relative to $HOME), creating its directory. */
  write(file: string, content: string, mode = 0o644): string {
    const full = path.isAbsolute(file) ? file : path.join(this.home, file);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, content, { mode });
    fs.chmodSync(full, mode);
    return full;
  }

  mkdir(dir: string): string {
    const full = path.isAbsolute(dir) ? dir : path.join(this.home, dir);
    fs.mkdirSync(full, { recursive: true });
    return full;
  }

  context(argv: readonly string[], options: RunOptions = {}): ResolveContext {
    this.lines = [];
    return {
      argv,
      env: { HOME: this.home, PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', ...options.env },
      cwd: options.cwd ?? this.proj,
      home: this.home,
      user: 'alice',
      uid: options.uid ?? UID,
      loginShell: options.loginShell ?? '/bin/zsh',
      umask: options.umask ?? 0o022,
      fs: nodeResolveFs,
      stderr: (line) => this.lines.push(line),
    };
  }

  run(argv: readonly string[], options: RunOptions = {}): Invocation {
    return resolveInvocation(this.context(argv, options));
  }

  /** A run that must resolve to launching a program. */
  launch(argv: readonly string[], options: RunOptions = {}): RunInvocation {
    const r = this.run(argv, options);
    if (r.kind !== 'run') return assert.fail(`expected a run, got ${JSON.stringify(r)}`);
    return r;
  }

  teardown(argv: readonly string[], options: RunOptions = {}): TeardownInvocation {
    const r = this.run(argv, options);
    if (r.kind !== 'teardown') return assert.fail(`expected a teardown, got ${JSON.stringify(r)}`);
    return r;
  }

  /** A run that must end with output; returns it. */
  output(argv: readonly string[], options: RunOptions = {}): { stdout: string; stderr: string; exitCode: number } {
    const r = this.run(argv, options);
    if (r.kind !== 'output') return assert.fail(`expected output, got ${r.kind}`);
    return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
  }

  /** Asserts the run fails with `jai: MESSAGE` and exit 1. */
  fails(argv: readonly string[], message: string, options: RunOptions = {}): void {
    assert.deepEqual(this.output(argv, options), { stdout: '', stderr: `jai: ${message}\n`, exitCode: 1 });
  }

  /** Asserts the run is a usage error: `jai: MESSAGE`, the "Try" line, exit 2. */
  usageError(argv: readonly string[], message: string, options: RunOptions = {}): void {
    assert.deepEqual(this.output(argv, options), {
      stdout: '',
      stderr: `jai: ${message}\nTry jai --help for more information.\n`,
      exitCode: 2,
    });
  }
}

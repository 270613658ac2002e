// Checklist #20: no fd but stdio crosses into a jail. The caller's extra fds (a file, a socket), jaid's listening
// socket, its database and other sessions' fds must be absent, with many sessions running at once. And jaid starts
// the helper itself with fds 0-3 and the plan's fds only, no signal ignored or blocked, an empty environment.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { REPO, runJai, startFixture, type Fixture } from '../helpers/fixture';
import { closed } from '../helpers/child-exit';
import { MODES } from './jail-modes';

const skip = privilegedSkipReason();
const SESSIONS_PER_MODE = 7;

describe('#20 only stdio crosses into the jail, with concurrent sessions', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('sec-fds');
  });
  after(async () => {
    await f.teardown();
  });

  it(`${SESSIONS_PER_MODE} sessions per mode at once (casual, strict, bare): each sees fds 0-2 only`, async () => {
    const secret = path.join(f.project, 'caller-secret');
    fs.writeFileSync(secret, 'the caller has this open');
    fs.chownSync(secret, f.user.uid, f.user.gid);
    // A listening socket of the test process: if the caller's fds leaked, a socket would show up inside.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const extra = fs.openSync(secret, 'r');
    const results: { mode: string; out: string; err: string; status: number | null }[] = [];
    const children = MODES.flatMap((mode) =>
      Array.from({ length: SESSIONS_PER_MODE }, () => {
        // bash lists its own fds (ls is a child): fds 3+ of the caller are the file and a socket.
        const child = spawn(
          process.execPath,
          [
            path.join(f.clientDir, 'bin/jai'),
            '-m',
            mode,
            'bash',
            '-c',
            // (no pipeline while ls runs: bash would hold the pipe's fds itself)
            't=$(mktemp); sleep 1; ls -l /proc/$$/fd >"$t"; tail -n +2 "$t" | sed "s/.* \\([0-9]*\\) -> /\\1 -> /"; rm "$t"',
          ],
          {
            cwd: f.project,
            uid: f.user.uid,
            gid: f.user.gid,
            env: { HOME: f.user.home, USER: f.user.name, PATH: '/usr/bin:/bin', JAI_SOCKET: f.socket },
            stdio: ['pipe', 'pipe', 'pipe', extra, extra, 'pipe'],
          },
        );
        const result = { mode, out: '', err: '', status: null as number | null };
        results.push(result);
        child.stdout?.on('data', (d: Buffer) => (result.out += d.toString()));
        child.stderr?.on('data', (d: Buffer) => (result.err += d.toString()));
        child.on('exit', (code) => (result.status = code));
        child.stdin?.end();
        return child;
      }),
    );
    try {
      await Promise.all(children.map(closed));
    } finally {
      fs.closeSync(extra);
      server.close();
    }
    for (const r of results) {
      assert.equal(r.status, 0, `${r.mode}: ${r.err}`);
      const fds = r.out
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[0]);
      assert.deepEqual(
        fds.filter((fd) => !['0', '1', '2', '255'].includes(fd ?? '')),
        [],
        `${r.mode}:\n${r.out}`,
      );
      assert.doesNotMatch(r.out, /caller-secret|audit\.db|ptmx|\/dev\/pts/, `${r.mode}:\n${r.out}`);
    }
  });
});

/** The fds a plan names (`grant` KIND:FD:PATH, `stdin`/`stdout`/`stderr` fd:N), from its NUL-separated entries. */
function planFds(plan: Buffer): number[] {
  const fields = plan.toString('latin1').split('\0');
  const fds: number[] = [];
  for (let i = 1; i + 1 < fields.length; i += 2) {
    const [key, value] = [fields[i], fields[i + 1] ?? ''];
    if (key === 'grant') fds.push(Number(value.split(':')[1]));
    if ((key === 'stdin' || key === 'stdout' || key === 'stderr') && value.startsWith('fd:'))
      fds.push(Number(value.slice(3)));
  }
  return fds.sort((a, b) => a - b);
}

/**
 * jaid with a stand-in helper that records how it was started (root-owned, in a root-only dir: jaid checks both)
 * into `out`, and holding an fd that is not close-on-exec (as one inherited from its own parent would be).
 */
async function startProbeFixture(name: string, daemonArgs: readonly string[]): Promise<{ f: Fixture; out: string }> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'jai-helper-probe-'));
  const probe = path.join(out, 'jai-helper');
  execFileSync('cc', [`-DOUT_DIR="${out}"`, '-o', probe, path.join(REPO, 'test/helpers/helper-probe.c')]);
  const inherited = path.join(out, 'jaid-inherited');
  fs.writeFileSync(inherited, '');
  const fd = fs.openSync(inherited, 'r');
  try {
    const f = await startFixture(name, process.env, {
      daemonArgs: ['--helper', probe, ...daemonArgs],
      inheritFds: [fd],
    });
    return { f, out };
  } finally {
    fs.closeSync(fd);
  }
}

describe(
  "#20 jaid starts the helper with fds 0-3 and the plan's fds only, default signals, no environment",
  { skip },
  () => {
    let f: Fixture;
    let out: string;
    before(async () => {
      // Each helper exec'd (the zygote's start is the next suite's).
      ({ f, out } = await startProbeFixture('sec-helper-fds', ['--helper-zygote', 'off']));
    });
    after(async () => {
      await f.teardown();
      fs.rmSync(out, { recursive: true, force: true });
    });

    it('a session with a cwd grant, an extra grant and piped stdio', () => {
      const extra = path.join(f.project, 'extra');
      fs.mkdirSync(extra);
      fs.chownSync(extra, f.user.uid, f.user.gid);
      const r = runJai(f, ['-d', extra, 'true']);
      // The stand-in exits 125 without a record: the session fails, as with a helper that died during setup.
      assert.equal(r.status, 125, r.stderr);
      const report = fs.readFileSync(path.join(out, 'report'), 'utf8');
      const plan = fs.readFileSync(path.join(out, 'plan'));
      assert.ok(plan.subarray(0, 11).equals(Buffer.from('jai-plan-1\0')), 'fd 0 is the whole plan, from its start');
      const named = planFds(plan);
      assert.ok(named.length >= 5, `a cwd grant, the extra grant and three stdio fds: ${named.join(' ')}`);
      const fds = [...report.matchAll(/^fd (\d+) (.*)$/gm)].map((m) => ({ fd: Number(m[1]), what: m[2] ?? '' }));
      assert.deepEqual(
        fds.map((x) => x.fd),
        [0, 1, 2, 3, ...named],
        report,
      );
      assert.match(fds[0]?.what ?? '', /^\/memfd:jai-plan/);
      assert.equal(fds[1]?.what, '/dev/null');
      assert.match(fds[2]?.what ?? '', /^pipe:/);
      assert.match(fds[3]?.what ?? '', /^socket:/);
      assert.doesNotMatch(report, /jaid-inherited/);
      // jaid is a Node process (SIGPIPE ignored) and blocks every signal while it starts the helper.
      assert.match(report, /^SigBlk:\s+0+$/m);
      assert.match(report, /^SigIgn:\s+0+$/m);
      assert.match(report, /^argc 1\nargv0 jai-helper\nenviron 0$/m);
    });
  },
);

describe('#20 jaid starts the helper zygote with fds 0-3 only, default signals, no environment', { skip }, () => {
  let f: Fixture;
  let out: string;
  before(async () => {
    ({ f, out } = await startProbeFixture('sec-zygote-fds', []));
  });
  after(async () => {
    await f.teardown();
    fs.rmSync(out, { recursive: true, force: true });
  });

  it('as the fork server every session helper comes from', async () => {
    const report = path.join(out, 'report-zygote');
    for (let i = 0; i < 500 && !fs.existsSync(report); i++) await new Promise((r) => setTimeout(r, 10));
    const text = fs.readFileSync(report, 'utf8');
    const fds = [...text.matchAll(/^fd (\d+) (.*)$/gm)].map((m) => ({ fd: Number(m[1]), what: m[2] ?? '' }));
    assert.deepEqual(
      fds.map((x) => x.fd),
      [0, 1, 2, 3],
      text,
    );
    assert.equal(fds[0]?.what, '/dev/null');
    assert.equal(fds[1]?.what, '/dev/null');
    assert.match(fds[2]?.what ?? '', /^pipe:/);
    assert.match(fds[3]?.what ?? '', /^socket:/);
    assert.equal(fs.readFileSync(path.join(out, 'plan-zygote'), 'utf8'), '', 'no plan: fd 0 is /dev/null');
    assert.doesNotMatch(text, /jaid-inherited/);
    assert.match(text, /^SigBlk:\s+0+$/m);
    assert.match(text, /^SigIgn:\s+0+$/m);
    assert.match(text, /^argc 2\nargv0 jai-helper\nenviron 0$/m);
  });
});

// The client library end to end: a real jaid, each scenario run by test/helpers/sdk-driver.ts in a Node process of
// the real unprivileged user (the SDK runs as the user, as an agent harness would).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { SessionRow } from '../../daemon/audit/audit-log';
import { adminJson } from '../helpers/admin-request';
import { privilegedSkipReason } from '../helpers/privileged';
import { startFixture, type Fixture } from '../helpers/fixture';

const skip = privilegedSkipReason();
/** Network at most loopback: asking for host is a policy denial the SDK must report. */
const SDK_POLICY = '[defaults]\nnetwork = "loopback"\n';

type Status = { code?: number; signal?: number };
interface Rejection {
  code: string;
  exitCode: number;
  message: string;
}
interface ChildResult {
  status: number | null;
  stdout: string;
  stderr: string;
}
interface Stats {
  open: number;
  idle: number;
  waiting: number;
  opened: number;
  served: number;
}

function userEnv(f: Fixture): NodeJS.ProcessEnv {
  return {
    HOME: f.user.home,
    USER: f.user.name,
    LOGNAME: f.user.name,
    PATH: '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    JAI_SOCKET: f.socket,
  };
}

/**
 * Runs `node SCRIPT ARGS…` from the installed client copy as the test user, in the project dir. Asynchronously: jaid
 * logs to a pipe this process drains, and a blocked event loop here would stall jaid.
 */
function runAsUser(f: Fixture, script: string, args: readonly string[]): Promise<ChildResult> {
  const child = spawn(process.execPath, [path.join(f.clientDir, script), ...args], {
    cwd: f.project,
    uid: f.user.uid,
    gid: f.user.gid,
    env: userEnv(f),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    }),
  );
}

async function scenario(f: Fixture, name: string): Promise<unknown> {
  const r = await runAsUser(f, 'dist/test/helpers/sdk-driver.js', [name]);
  assert.equal(r.status, 0, `driver ${name} failed:\n${r.stderr}\n${f.daemonLog().slice(-3000)}`);
  return JSON.parse(r.stdout);
}

function auditRows(f: Fixture): SessionRow[] {
  const db = new Database(f.auditDb, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT * FROM sessions ORDER BY rowid').all() as SessionRow[];
  } finally {
    db.close();
  }
}

describe('client library (SDK)', { skip }, () => {
  let f: Fixture;
  before(async () => {
    // Dozens of sessions in a few seconds, as a harness runs them: above the default per-uid spawn rate (20/s,
    // bursts of 40), which client-limits.test.ts covers.
    f = await startFixture('sdk', process.env, {
      policy: SDK_POLICY,
      daemonArgs: ['--spawn-rate', '1000', '--spawn-burst', '1000'],
    });
  });
  after(async () => {
    await f.teardown();
  });

  it('runs 20 sessions one after another on one connection, each with its own exit code, output and audit row', async () => {
    const before = auditRows(f).length;
    const r = (await scenario(f, 'sequential')) as {
      results: { id: string; status: Status; stdout: string; stderr: string }[];
      stats: Stats;
      version: number;
    };
    assert.equal(r.version, 2);
    assert.equal(r.results.length, 20);
    r.results.forEach((res, i) => {
      assert.deepEqual(res.status, { code: i });
      assert.equal(res.stdout, `run ${i}\n`);
      assert.equal(res.stderr, `err ${i}\n`);
      assert.match(res.id, /^[0-9a-f]{32}$/);
    });
    assert.equal(new Set(r.results.map((x) => x.id)).size, 20);
    assert.equal(r.stats.opened, 1, 'one connection for all 20');
    assert.equal(r.stats.served, 20);
    // One audit row per session, each ended with its own code, all as the user.
    const rows = auditRows(f).slice(before);
    assert.equal(rows.length, 20);
    rows.forEach((row, i) => {
      assert.equal(row.id, r.results[i]?.id);
      assert.equal(row.user, f.user.name);
      assert.equal(row.peer_uid, f.user.uid);
      assert.equal(row.outcome, 'exited');
      assert.equal(row.exit_code, i);
      assert.deepEqual(JSON.parse(row.argv), ['sh', '-c', 'echo "run $0"; echo "err $0" >&2; exit $0', String(i)]);
    });
  });

  it('takes the next request at once after an exit: at max_sessions = 1 it waits, jai -u finds nothing busy', async () => {
    // With one session allowed, a spawn sent the moment the last one's exit arrived finds that session finishing
    // (its helper exiting): it waits for it rather than being refused; a teardown sent then waits for the helper to
    // let go of the overlay rather than failing with EBUSY. And the setup slots of the teardowns are given back
    // (with jaid's default 32 per uid, 30 requests leaking one each would show as BUSY in the next test).
    fs.writeFileSync(f.policyFile, `${SDK_POLICY}max_sessions = 1\n`);
    assert.equal(adminJson(f.adminSocket, 'POST', '/v1/policy/reload').status, 200);
    try {
      const { results, teardowns } = (await scenario(f, 'backToBack')) as {
        results: { status: unknown; statusAgain: unknown; tornDown: unknown }[];
        teardowns: unknown[];
      };
      assert.equal(results.length, 10);
      for (const r of results) assert.deepEqual(r, { status: { code: 0 }, statusAgain: { code: 0 }, tornDown: 0 });
      assert.deepEqual(teardowns, Array<number>(25).fill(0));
    } finally {
      fs.writeFileSync(f.policyFile, SDK_POLICY);
      assert.equal(adminJson(f.adminSocket, 'POST', '/v1/policy/reload').status, 200);
    }
  });

  it('runs concurrent sessions on a pool of connections, at most maxConnections at once', async () => {
    const r = (await scenario(f, 'concurrent')) as { outputs: string[]; peak: number; elapsedMs: number; stats: Stats };
    assert.deepEqual(
      r.outputs,
      [0, 1, 2, 3, 4, 5].map((i) => `done ${i}\n`),
    );
    assert.equal(r.peak, 3);
    assert.equal(r.stats.opened, 3, 'the cap is 3 connections; the others waited and reused them');
    assert.equal(r.stats.served, 6);
    assert.ok(r.elapsedMs >= 1000, `two waves of 0.5 s sleeps took ${r.elapsedMs} ms`);
  });

  it('streams stdin, stdout and stderr through pipes (3 MiB echoed by cat, 1 MiB of output intact)', async () => {
    const r = (await scenario(f, 'streams')) as {
      cat: { status: Status; same: boolean; length: number; sha: boolean };
      big: { status: Status; length: number; allX: boolean; stderr: string };
      once: { status: Status; stdout: string; stderr: string };
      stats: Stats;
    };
    assert.deepEqual(r.cat.status, { code: 0 });
    assert.equal(r.cat.length, 3 * 1024 * 1024 + 7);
    assert.ok(r.cat.same && r.cat.sha);
    assert.deepEqual(r.big.status, { code: 0 });
    assert.equal(r.big.length, 1024 * 1024);
    assert.ok(r.big.allX);
    assert.equal(r.big.stderr, 'oops\n');
    assert.deepEqual(r.once, { status: { code: 0 }, stdout: 'got line\n', stderr: 'e\n' });
    assert.equal(r.stats.opened, 1);
  });

  it('resizes a PTY session (stty size sees it) and refuses resize() without a PTY', async () => {
    const r = (await scenario(f, 'pty')) as {
      status: Status;
      output: string;
      notPty: string;
      badSize: string;
      ptyMaster: boolean;
    };
    assert.deepEqual(r.status, { code: 0 });
    assert.match(r.output, /30 100\r?\n[\s\S]*40 120\r?\n/);
    assert.equal(r.notPty, 'NOT_A_PTY');
    assert.equal(r.badSize, 'INVALID_ARGUMENT');
    assert.ok(r.ptyMaster);
  });

  it('kill(SIGTERM) ends a sleep; signals the protocol does not forward are refused by the library', async () => {
    const r = (await scenario(f, 'kill')) as {
      sent: boolean;
      status: Status;
      elapsedMs: number;
      refused: string[];
      afterExit: boolean;
      next: Status;
      hupStatus: Status;
      stats: Stats;
    };
    assert.equal(r.sent, true);
    assert.deepEqual(r.status, { signal: 15 });
    assert.ok(r.elapsedMs < 5000, `took ${r.elapsedMs} ms`);
    assert.deepEqual(r.refused, ['SIGNAL_NOT_ALLOWED', 'SIGNAL_NOT_ALLOWED']);
    assert.equal(r.afterExit, false);
    assert.deepEqual(r.next, { code: 0 });
    assert.deepEqual(r.hupStatus, { signal: 1 });
    assert.equal(r.stats.opened, 1);
  });

  it('rejects refused spawns with the daemon’s code and keeps serving on the same connection', async () => {
    const before = auditRows(f).length;
    const r = (await scenario(f, 'refused')) as {
      before: Status;
      policy: Rejection;
      afterPolicy: { status: Status; stdout: string };
      grant: Rejection;
      missing: Rejection;
      badCwd: Rejection;
      last: Status;
      stats: Stats;
      closedSpawn: Rejection;
    };
    assert.deepEqual(r.before, { code: 0 });
    assert.equal(r.policy.code, 'POLICY_DENIED');
    assert.equal(r.policy.exitCode, 1);
    assert.match(r.policy.message, /network host is not allowed/);
    assert.deepEqual(r.afterPolicy, { status: { code: 0 }, stdout: 'still here\n' });
    assert.equal(r.grant.code, 'GRANT_REFUSED');
    assert.equal(r.missing.code, 'EXEC_FAILED');
    assert.equal(r.missing.exitCode, 127);
    assert.equal(r.badCwd.code, 'PATH_UNUSABLE');
    assert.deepEqual(r.last, { code: 4 });
    assert.equal(r.stats.opened, 1, 'every refusal left the connection usable');
    assert.equal(r.closedSpawn.code, 'CLIENT_CLOSED');
    // The audit log has the denial and each session that got as far as the helper (the bad cwd never left).
    const rows = auditRows(f).slice(before);
    assert.deepEqual(
      rows.map((row) => [row.outcome, row.error_code ?? row.exit_code]),
      [
        ['exited', 0],
        ['denied', 'POLICY_DENIED'],
        ['exited', 0],
        ['failed', 'GRANT_REFUSED'],
        ['failed', 'EXEC_FAILED'],
        ['exited', 4],
      ],
    );
  });

  it('speaks protocol version 2 on the wire: a second request, a late Signal dropped, version 1 unchanged', async () => {
    const r = (await scenario(f, 'protocol')) as { v2: string[]; v1: string[] };
    assert.deepEqual(r.v2, ['hello', 'started', 'exited', 'started', 'exited', 'error:PROTO_BAD_FRAME', 'eof']);
    assert.deepEqual(r.v1, ['hello', 'started', 'exited', 'eof']);
  });

  it('hangs up a session whose unref’d client process exited', async () => {
    const r = (await scenario(f, 'unref')) as { id: string };
    const deadline = Date.now() + 10_000;
    let row: SessionRow | undefined;
    while (Date.now() < deadline) {
      row = auditRows(f).find((x) => x.id === r.id);
      if (row?.ended_at != null) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(row?.ended_at != null, 'the session ended');
    assert.equal(row.outcome, 'signaled');
  });

  it('runs the docs/sdk.md example harness as written', async () => {
    const r = await runAsUser(f, 'dist/docs/examples/sdk-harness.js', []);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines[0], {
      argv: ['sh', '-c', 'echo "hello from $(id -un) in $(pwd)"'],
      exit: 0,
      stdout: `hello from ${f.user.name} in ${f.project}\n`,
      stderr: '',
    });
    assert.equal(lines[1]?.['exit'], 0);
    assert.deepEqual(lines[2], { argv: ['sort'], exit: 0, stdout: 'apple\nfig\npear\n', stderr: '' });
    assert.deepEqual(lines[3], {
      argv: ['sh', '-c', 'echo failing >&2; exit 3'],
      exit: 3,
      stdout: '',
      stderr: 'failing\n',
    });
    assert.deepEqual(lines[4], { argv: ['sleep', '30'], exit: 128 + 15, stdout: '', stderr: '', timedOut: true });
    assert.equal((lines[5]?.['error'] as { code: string } | undefined)?.code, 'EXEC_FAILED');
    assert.deepEqual(lines[6], { connectionsOpened: 1, requests: 6 });
    // What the jailed tool wrote in the granted project is on the host.
    const cat = spawnSync('cat', [path.join(f.project, 'harness-output.txt')], { encoding: 'utf8' });
    assert.equal(cat.stdout, 'a file\n');
  });
});

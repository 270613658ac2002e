// Restart safety and socket activation: a crashed jaid's sessions are ended and recorded by the next one, a second
// jaid refuses to start while one serves, and an inherited listening socket (systemd's jaid.socket) is adopted.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import * as native from '../../native/addon';
import type { SessionRow } from '../../daemon/audit/audit-log';
import { adminJson } from '../helpers/admin-request';
import { closed } from '../helpers/child-exit';
import { privilegedSkipReason } from '../helpers/privileged';
import {
  REPO,
  helperProcesses,
  jaidArgs,
  runJai,
  spawnJai,
  startFixture,
  zygoteProcesses,
  type Fixture,
} from '../helpers/fixture';

const skip = privilegedSkipReason();

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function startJaid(args: string[], env: NodeJS.ProcessEnv = process.env, extraFd?: number): ChildProcess {
  const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'pipe', 'pipe'];
  if (extraFd !== undefined) stdio.push(extraFd);
  // `exec` keeps the shell's pid, so LISTEN_PID=$$ names jaid itself, as systemd sets it.
  return spawn('sh', ['-c', `LISTEN_PID=$$ exec "$0" "$@"`, process.execPath, path.join(REPO, 'bin/jaid'), ...args], {
    stdio,
    env,
  });
}

function output(child: ChildProcess): () => string {
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  return () => text;
}

describe('daemon restart safety and socket activation', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('restart', {
      ...process.env,
      INVOCATION_ID: 'inv-secret',
      JOURNAL_STREAM: '8:1234',
      CREDENTIALS_DIRECTORY: '/run/credentials/jaid.service',
    });
  });
  after(async () => {
    await f.teardown();
  });

  it('keeps service variables out of the jail', () => {
    const r = runJai(f, ['env']);
    assert.doesNotMatch(r.stdout, /INVOCATION_ID|JOURNAL_STREAM|CREDENTIALS_DIRECTORY|LISTEN_|NOTIFY_SOCKET/);
  });

  it('refuses to start a second jaid while one serves the socket', async () => {
    const second = startJaid(jaidArgs({ ...f, auditDb: `${f.auditDb}-second` }));
    const text = output(second);
    assert.equal(await closed(second), 1);
    assert.match(text(), /another jaid is serving/);
    assert.equal(runJai(f, ['true']).status, 0, 'the first one still serves');
    fs.rmSync(`${f.auditDb}-second`, { force: true });
  });

  it('after a crash, the next jaid ends the orphaned sessions and records them as daemon-restart', async () => {
    const client = spawnJai(f, ['sh', '-c', 'echo started; exec sleep 60']);
    let out = '';
    client.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await until(() => out === 'started\n', 'the session to start');
    const crashed = f.daemon.pid;
    const health = adminJson<{ limits: { enforced: boolean; detail: string } }>(f.adminSocket, 'GET', '/v1/health');
    assert.equal(health.json.limits.enforced, true, 'this host has cgroups (policy.test.ts checks them too)');
    const bases = health.json.limits.detail.split(' ');
    assert.ok(
      bases.every((b) => fs.readdirSync(b).some((n) => n.startsWith(`spare-${crashed}-`))),
      'the jaid about to crash has its spare cgroups (v1)',
    );
    const zygotes = zygoteProcesses().filter((z) => z.ppid === crashed);
    assert.equal(zygotes.length, 1, 'jaid runs one helper zygote');
    f.daemon.kill('SIGKILL');
    await closed(f.daemon);
    assert.ok(helperProcesses().length > 0, 'the session outlived the crashed daemon');
    // Not the zygote: it dies with jaid (its parent-death signal), leaving nothing that could fork a helper.
    await until(
      () => !zygoteProcesses().some((z) => z.pid === zygotes[0]?.pid),
      'the crashed jaid’s zygote to die with it',
    );
    const next = startJaid(jaidArgs(f));
    const text = output(next);
    try {
      await until(() => runJai(f, ['true']).status === 0, `the new jaid to serve (${text()})`);
      assert.equal(zygoteProcesses().filter((z) => z.ppid === next.pid).length, 1, 'the new jaid runs its own zygote');
      await until(() => helperProcesses().length === 0, 'the leftover session to be killed');
      await closed(client);
      const db = new Database(f.auditDb, { readonly: true });
      const rows = db.prepare('SELECT * FROM sessions').all() as SessionRow[];
      db.close();
      const orphan = rows.find((r) => r.argv.includes('sleep 60'));
      assert.ok(orphan !== undefined);
      assert.equal(orphan.outcome, 'daemon-restart');
      assert.equal(rows.filter((r) => r.ended_at === null).length, 0);
      // Its cgroups go once its processes are gone, not 30 s later, and so does the dead jaid's spare.
      await until(
        () => bases.every((b) => !fs.readdirSync(b).some((n) => n === orphan.id || n.startsWith(`spare-${crashed}-`))),
        `the orphaned session's cgroups to go (${bases.join(' ')})`,
      );
    } finally {
      next.kill('SIGTERM');
      await closed(next);
    }
  });

  it('adopts a listening socket passed as fd 3 (LISTEN_FDS), and leaves its path in place on stop', async () => {
    const socketPath = `/run/jai/test-activated-${process.pid}.sock`;
    const listenFd = native.seqpacketListen(socketPath, 0o666, 16);
    const jaid = startJaid(
      jaidArgs({
        ...f,
        socket: socketPath,
        adminSocket: `/run/jai/test-activated-${process.pid}.admin.sock`,
        auditDb: `${f.auditDb}-activated`,
      }),
      { ...process.env, LISTEN_FDS: '1' },
      listenFd,
    );
    native.closeFd(listenFd);
    const text = output(jaid);
    try {
      await until(() => text().includes('jaid ready'), 'jaid ready');
      const r = runJai(f, ['echo', 'activated'], { env: { JAI_SOCKET: socketPath } });
      assert.equal(r.stdout, 'activated\n', r.stderr + text());
    } finally {
      jaid.kill('SIGTERM');
      assert.equal(await closed(jaid), 0);
    }
    assert.ok(fs.existsSync(socketPath), "the socket path is systemd's");
    fs.rmSync(socketPath, { force: true });
    fs.rmSync(`${f.auditDb}-activated`, { force: true });
  });
});

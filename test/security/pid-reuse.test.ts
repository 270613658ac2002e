// Checklist #2 and #31: pid reuse. Nothing in jaid is authorised by pid (identity is SO_PEERCRED's uid at connect
// time; cwd and grants arrive as fds), and nothing is signalled by a pid that may have been reused (jaid signals only
// its own unreaped helper). Both are shown by making a root process take a pid that mattered a moment before, by
// writing /proc/sys/kernel/ns_last_pid.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { PROTOCOL_VERSION, decodeDaemonMessage, encodeClientMessage, v1 } from '../../proto/codec';
import { adminJson } from '../helpers/admin-request';
import { privilegedSkipReason } from '../helpers/privileged';
import { REPO, spawnJai, startFixture, type Fixture } from '../helpers/fixture';
import { ended, isAlive } from './jail-modes';

const skip = privilegedSkipReason();
const NS_LAST_PID = '/proc/sys/kernel/ns_last_pid';

/** Starts a root `sleep` with exactly this pid (retrying while other processes race for it); null if it never got it. */
async function takePid(pid: number): Promise<ChildProcess | null> {
  for (let attempt = 0; attempt < 500; attempt++) {
    fs.writeFileSync(NS_LAST_PID, String(pid - 1));
    const sleeper = spawn('sleep', ['120'], { stdio: 'ignore' });
    if (sleeper.pid === pid) return sleeper;
    sleeper.kill('SIGKILL');
    await ended(sleeper);
  }
  return null;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

interface SessionRow {
  id: string;
  uid: number;
  user: string;
  peerPid: number;
  argv: string[];
  state: string;
  exitCode: number | null;
}

/** The pid of jaid's jai-helper child, once there is exactly one. */
async function helperOf(daemonPid: number): Promise<number> {
  for (let i = 0; i < 500; i++) {
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (stat.includes('(jai-helper') && Number(fields[1]) === daemonPid) return Number(entry);
      } catch {
        // gone
      }
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('no jai-helper child of jaid');
}

describe('#2 #31 pid reuse', { skip }, () => {
  let f: Fixture;
  const sleepers: ChildProcess[] = [];
  before(async () => {
    f = await startFixture('sec-pid-reuse');
  });
  after(async () => {
    for (const s of sleepers) s.kill('SIGKILL');
    await Promise.all(sleepers.map(ended));
    await f.teardown();
  });

  it('#2: the connecting process exits and a root process takes its pid: the session is still the user’s', async () => {
    const go = path.join(f.project, 'go');
    const out = path.join(f.project, 'reuse-out');
    const hello = encodeClientMessage({ hello: { version: PROTOCOL_VERSION, agent: 'pid-reuse-test' } });
    const request = encodeClientMessage({
      spawn: {
        argv: ['sh', '-c', 'id -un > reuse-out; id -u >> reuse-out'],
        cwd: f.project,
        env: ['PATH=/usr/bin:/bin'],
        mode: v1.Mode.MODE_CASUAL,
        stdin: v1.StdioKind.STDIO_NULL,
        stdout: v1.StdioKind.STDIO_NULL,
        stderr: v1.StdioKind.STDIO_NULL,
        umask: 0o22,
      },
    });
    const client = spawn(
      'python3',
      [path.join(REPO, 'test/helpers/handoff-client.py'), f.socket, hex(hello), hex(request), f.project, go],
      { uid: f.user.uid, gid: f.user.gid, cwd: f.project, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    client.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines = readline.createInterface({ input: client.stdout });
    const iterator = lines[Symbol.asyncIterator]();
    const first = await iterator.next();
    const connector = Number(first.value);
    assert.ok(connector > 1, `the connecting pid: ${String(first.value)} ${stderr}`);
    await ended(client);

    const sleeper = await takePid(connector);
    assert.ok(sleeper !== null, `could not make a root process take pid ${connector}`);
    sleepers.push(sleeper);
    fs.writeFileSync(go, '');

    const messages: v1.DaemonMessage[] = [];
    for await (const line of { [Symbol.asyncIterator]: () => iterator }) {
      const m = /^msg ([0-9a-f]*)$/.exec(line);
      assert.ok(m !== null, line);
      const decoded = decodeDaemonMessage(Buffer.from(m[1] ?? '', 'hex'));
      assert.ok(decoded.ok);
      messages.push(decoded.message);
    }
    const started = messages.find((m) => m.started)?.started;
    const exited = messages.find((m) => m.exited)?.exited;
    assert.ok(started?.sessionId, `no Started: ${JSON.stringify(messages)} ${stderr}`);
    assert.equal(exited?.code, 0, JSON.stringify(messages));
    assert.equal(fs.readFileSync(out, 'utf8'), `${f.user.name}\n${f.user.uid}\n`);

    // The audit row names the user; the pid it records is informational and now belongs to root's sleep.
    const row = adminJson<SessionRow>(f.adminSocket, 'GET', `/v1/sessions/${started.sessionId}`);
    assert.equal(row.status, 200);
    assert.equal(row.json.uid, f.user.uid);
    assert.equal(row.json.user, f.user.name);
    assert.equal(row.json.peerPid, connector);
    assert.ok(isAlive(connector), 'the root process holding the reused pid is untouched');
  });

  it('#31: killing an ended session whose helper pid a root process now holds signals nothing', async () => {
    const child = spawnJai(f, ['sh', '-c', 'sleep 0.5']);
    const helper = await helperOf(f.daemon.pid ?? 0);
    await ended(child);
    assert.equal(child.exitCode, 0);
    const rows = adminJson<{ sessions: SessionRow[] }>(f.adminSocket, 'GET', `/v1/sessions?user=${f.user.name}`);
    const last = rows.json.sessions.find((s) => s.argv.includes('sleep 0.5'));
    assert.equal(last?.state, 'exited');

    const sleeper = await takePid(helper);
    assert.ok(sleeper !== null, `could not make a root process take pid ${helper}`);
    sleepers.push(sleeper);
    const kill = adminJson<{ code: string }>(f.adminSocket, 'POST', `/v1/sessions/${last.id}/kill`);
    assert.equal(kill.status, 409, JSON.stringify(kill.json));
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(isAlive(helper), 'the process now holding the helper’s old pid is alive');
    assert.equal(sleeper.exitCode, null);
  });
});

// jaid under a service manager: READY=1 once it serves, STOPPING=1 on SIGTERM, running sessions ended and
// recorded before it exits.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { SessionRow } from '../../daemon/audit/audit-log';
import { closed } from '../helpers/child-exit';
import { privilegedSkipReason } from '../helpers/privileged';
import { ensureTestUser, runJai, spawnJai, startFixture, type Fixture } from '../helpers/fixture';

const skip = privilegedSkipReason();

/** A unix datagram socket standing in for systemd's notify socket (Node has no AF_UNIX datagrams). */
function notifyListener(socketPath: string): { proc: ChildProcess; messages: () => string[] } {
  const script = [
    'import socket, sys',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
    `s.bind(${JSON.stringify(socketPath)})`,
    'print("bound", flush=True)',
    'while True:',
    '    print(s.recv(4096).decode().replace("\\n", " "), flush=True)',
  ].join('\n');
  const proc = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return { proc, messages: () => out.split('\n').filter((l) => l !== '' && l !== 'bound') };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('daemon lifecycle', { skip }, () => {
  let f: Fixture;
  let notify: ReturnType<typeof notifyListener>;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jai-notify-'));
  const notifyPath = path.join(dir, 'notify.sock');

  before(async () => {
    notify = notifyListener(notifyPath);
    await until(() => fs.existsSync(notifyPath), 'notify socket');
    f = await startFixture('lifecycle', { ...process.env, NOTIFY_SOCKET: notifyPath });
  });
  after(async () => {
    // The listener goes whatever the teardown finds: a live child would keep this test file from ever ending.
    try {
      await f.teardown();
    } finally {
      notify.proc.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sends READY=1 once the socket serves', async () => {
    await until(() => notify.messages().includes('READY=1'), 'READY=1');
    assert.equal(runJai(f, ['true']).status, 0);
    await until(() => notify.messages().includes('STATUS=1 active session'), 'STATUS while the session ran');
    await until(() => notify.messages().at(-1) === 'STATUS=0 active sessions', 'STATUS after it ended');
  });

  it('does not pass NOTIFY_SOCKET to the jail', () => {
    const r = runJai(f, ['sh', '-c', 'echo "[${NOTIFY_SOCKET-unset}]"']);
    assert.equal(r.stdout, '[unset]\n');
  });

  it('on SIGTERM sends STOPPING=1, ends running sessions and records them, and exits 0', async () => {
    const client = spawnJai(f, ['sh', '-c', 'echo started; exec sleep 60']);
    let clientStderr = '';
    let clientStdout = '';
    client.stderr?.on('data', (d: Buffer) => (clientStderr += d.toString()));
    client.stdout?.on('data', (d: Buffer) => (clientStdout += d.toString()));
    const readRows = (): SessionRow[] => {
      const db = new Database(f.auditDb, { readonly: true });
      try {
        return db.prepare('SELECT * FROM sessions').all() as SessionRow[];
      } finally {
        db.close();
      }
    };
    // The program is running (not just set up): SIGTERM now ends a live session.
    await until(() => clientStdout === 'started\n', 'the program to start');
    const clientExit = closed(client);
    const daemonExit = new Promise<number | null>((resolve) => f.daemon.on('exit', (code) => resolve(code)));
    f.daemon.kill('SIGTERM');
    assert.equal(await daemonExit, 0);
    assert.ok(notify.messages().includes('STOPPING=1'), JSON.stringify(notify.messages()));
    const sleeper = readRows().find((r) => r.argv.includes('sleep'));
    assert.equal(sleeper?.outcome, 'signaled');
    assert.equal(sleeper.signal, 1, 'hung up');
    assert.equal(await clientExit, 128 + 1, clientStderr);
    assert.equal(clientStderr, 'jai: jaid is stopping: the session is being hung up\n');
  });
});

describe('a jaid that cannot start', { skip }, () => {
  it('fails the fixture with its message and leaves nothing of the fixture behind', async () => {
    const ours = (): string[] => fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('jai-it-badstart-'));
    const earlier = new Set(ours());
    await assert.rejects(
      startFixture('badstart', process.env, { daemonArgs: ['--no-such-option'] }),
      /jaid exited at start:\njaid: unknown option --no-such-option/,
    );
    assert.deepEqual(
      ours().filter((n) => !earlier.has(n)),
      [],
    );
    assert.equal(fs.existsSync(path.join(ensureTestUser().home, 'proj-badstart')), false);
  });
});

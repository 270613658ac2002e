// A real admin server on a Unix socket in a temp dir, with a fake AdminContext around a real AuditLog, and clients
// that talk to it as root (in process) or as another uid (a child node under setpriv: its SO_PEERCRED is that uid).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { AdminContext, LimitsStatus } from '../../daemon/admin/context';
import { Metrics } from '../../daemon/admin/metrics';
import { startAdminServer, type AdminAppOptions, type AdminServer } from '../../daemon/admin/server';
import { AuditLog, type SessionStart } from '../../daemon/audit/audit-log';
import type { Logger } from '../../daemon/log';
import type { Policy } from '../../daemon/policy/types';
import type { GroupEntry, NssLookup, PasswdEntry } from '../../daemon/server/peer';
import type { Mode } from '../../daemon/server/validate';

export const NOBODY = 65534;
export const ADMIN_GID = 4242;
export const ADMIN_GROUP = 'jai-admin';

/** Session ids: `a…` and `b…` run as nobody, `c…` and `d…` as alice (1001); a and c are running. */
export const IDS = {
  nobodyRunning: 'a'.repeat(32),
  nobodyEnded: 'b'.repeat(32),
  aliceRunning: 'c'.repeat(32),
  aliceEnded: 'd'.repeat(32),
  unknown: 'e'.repeat(32),
} as const;

const users: PasswdEntry[] = [
  { name: 'root', uid: 0, gid: 0, dir: '/root', shell: '/bin/sh', gecos: '' },
  { name: 'alice', uid: 1001, gid: 1001, dir: '/home/alice', shell: '/bin/sh', gecos: '' },
  { name: 'nobody', uid: NOBODY, gid: NOBODY, dir: '/nonexistent', shell: '/bin/false', gecos: '' },
];
const groups: GroupEntry[] = [
  { name: 'root', gid: 0 },
  { name: ADMIN_GROUP, gid: ADMIN_GID },
  { name: 'nogroup', gid: NOBODY },
];

export const testPolicy: Policy = {
  source: '/etc/jai/policy.toml',
  adminGroup: ADMIN_GROUP,
  defaults: {
    allowModes: ['casual', 'strict'],
    maxSessions: 8,
    network: 'host',
    allowUserns: false,
    allowKeyring: true,
    denyGrants: ['/etc'],
    masks: ['.ssh'],
    unsetenv: ['*_TOKEN'],
    limits: { memoryBytes: 1 << 30, pids: 1024, cpu: 2 },
  },
  rules: [
    {
      name: 'interns',
      users: [],
      groups: ['interns'],
      deny: false,
      overrides: { network: 'none', limits: { pids: 256 } },
    },
  ],
};

export class FakeSessions {
  readonly running = new Set<string>();
  readonly killed: string[] = [];
  kill(id: string): boolean {
    this.killed.push(id);
    return this.running.delete(id);
  }
  activeByMode(): Record<Mode, number> {
    return { casual: this.running.size, strict: 0, bare: 0 };
  }
}

export class FakePolicy {
  policy: Policy = testPolicy;
  loaded = new Date('2026-04-01T00:00:00Z');
  next: { ok: true } | { ok: false; message: string } = { ok: true };
  reloads = 0;
  current(): Policy {
    return this.policy;
  }
  loadedAt(): Date {
    return this.loaded;
  }
  reload(): { ok: true } | { ok: false; message: string } {
    this.reloads++;
    if (this.next.ok) this.loaded = new Date();
    return this.next;
  }
}

export interface Fixture {
  dir: string;
  socketPath: string;
  audit: AuditLog;
  sessions: FakeSessions;
  policy: FakePolicy;
  metrics: Metrics;
  /** Extra groups getgrouplist reports per user name (the admin-group test adds ADMIN_GID for nobody). */
  extraGroups: Map<string, number[]>;
  ctx: AdminContext;
  server: AdminServer;
  close(): Promise<void>;
}

const limits: LimitsStatus = { backend: 'cgroup2', enforced: true, detail: '/sys/fs/cgroup/jai.slice' };

function seed(audit: AuditLog, sessions: FakeSessions): void {
  const start = (id: string, uid: number, user: string): SessionStart => ({
    id,
    uid,
    user,
    peerUid: uid,
    peerPid: 42,
    argv: ['agent', '--flag'],
    cwd: '/tmp',
    mode: 'casual',
    jail: 'default',
    grants: [{ path: '/tmp', readOnly: false }],
    masks: ['.ssh'],
    network: 'host',
    limits: { memoryBytes: null, pids: 100, cpu: 1.5 },
    rule: 'default',
  });
  audit.recordStart(start(IDS.nobodyRunning, NOBODY, 'nobody'), new Date('2026-04-01T10:00:00Z'));
  audit.recordStart(start(IDS.nobodyEnded, NOBODY, 'nobody'), new Date('2026-04-01T09:00:00Z'));
  audit.recordEnd(
    IDS.nobodyEnded,
    { outcome: 'exited', exitCode: 0, changes: { count: 1, truncated: false, paths: ['a.txt'] } },
    new Date('2026-04-01T09:30:00Z'),
  );
  audit.recordStart(start(IDS.aliceRunning, 1001, 'alice'), new Date('2026-04-01T11:00:00Z'));
  audit.recordStart(start(IDS.aliceEnded, 1001, 'alice'), new Date('2026-04-01T08:00:00Z'));
  audit.recordEnd(IDS.aliceEnded, { outcome: 'signaled', signal: 9 }, new Date('2026-04-01T08:00:05Z'));
  sessions.running.add(IDS.nobodyRunning);
  sessions.running.add(IDS.aliceRunning);
}

export async function startFixture(socketMode = 0o666, log?: Logger, opts: AdminAppOptions = {}): Promise<Fixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jai-admin-'));
  // The unprivileged client must reach the socket: the directory is traversable, the socket world-writable.
  fs.chmodSync(dir, 0o711);
  const socketPath = path.join(dir, 'admin.sock');
  const audit = new AuditLog(path.join(dir, 'db', 'audit.db'));
  const sessions = new FakeSessions();
  const policy = new FakePolicy();
  const metrics = new Metrics();
  const extraGroups = new Map<string, number[]>();
  const nss: NssLookup = {
    getpwuid: (uid) => users.find((u) => u.uid === uid) ?? null,
    getpwnam: (name) => users.find((u) => u.name === name) ?? null,
    getgrouplist: (name, gid) => [gid, ...(extraGroups.get(name) ?? [])],
    getgrnam: (name) => groups.find((g) => g.name === name) ?? null,
    getgrgid: (gid) => groups.find((g) => g.gid === gid) ?? null,
  };
  seed(audit, sessions);
  const ctx: AdminContext = {
    audit,
    auditStatus: () => ({ writable: true, failureMode: 'refuse', failingSince: null, error: null, pendingEnds: 0 }),
    sessions,
    policy,
    limits,
    metrics,
    nss,
    log: log ?? pino({ level: process.env['JAI_TEST_LOG'] ?? 'silent' }),
    startedAt: new Date(Date.now() - 5000),
    version: '0.1.0-test',
  };
  const server = await startAdminServer(ctx, { ...opts, socketPath, socketMode, groupGid: null });
  return {
    dir,
    socketPath,
    audit,
    sessions,
    policy,
    metrics,
    extraGroups,
    ctx,
    server,
    close: async () => {
      await server.close();
      audit.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Request {
  method?: string;
  path: string;
  body?: string;
  contentType?: string;
}

export interface Response {
  status: number;
  contentType: string;
  body: string;
}

/** One request as this process (root). */
export function request(socketPath: string, req: Request): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (req.body !== undefined) headers['content-type'] = req.contentType ?? 'application/json';
    const r = http.request({ socketPath, path: req.path, method: req.method ?? 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'] ?? '',
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(req.body);
  });
}

// Runs in the child (as the other uid): the requests in order, the responses as one JSON array on stdout.
const CLIENT = `
const http = require('node:http');
const [socketPath, list] = process.argv.slice(1);
(async () => {
  const out = [];
  for (const req of JSON.parse(list)) {
    out.push(await new Promise((resolve, reject) => {
      const headers = req.body === undefined ? {} : { 'content-type': req.contentType || 'application/json' };
      const r = http.request({ socketPath, path: req.path, method: req.method || 'GET', headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, contentType: res.headers['content-type'] || '',
          body: Buffer.concat(chunks).toString('utf8') }));
      });
      r.on('error', reject);
      r.end(req.body);
    }));
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { process.stderr.write(String(e)); process.exit(1); });
`;

/** Requests made by a child process running as uid:gid with no supplementary groups. */
export function requestsAs(uid: number, socketPath: string, reqs: Request[]): Promise<Response[]> {
  return new Promise((resolve, reject) => {
    execFile(
      'setpriv',
      [
        `--reuid=${uid}`,
        `--regid=${uid}`,
        '--clear-groups',
        process.execPath,
        '-e',
        CLIENT,
        socketPath,
        JSON.stringify(reqs),
      ],
      { cwd: '/', timeout: 20_000 },
      (error, stdout, stderr) => {
        if (error !== null) {
          reject(new Error(`client as uid ${uid} failed: ${error.message} ${stderr}`));
          return;
        }
        resolve(JSON.parse(stdout) as Response[]);
      },
    );
  });
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the test names the shape it expects
export function json<T>(response: Response): T {
  return JSON.parse(response.body) as T;
}

// The systemd integration, checked offline with the real systemd tools (systemd is not PID 1 here or in CI):
// scripts/install.sh lays the built product out in a DESTDIR (root-owned, nothing writable by others, the
// installed jai and jaid run from there on their own node_modules), systemd-analyze verify accepts the installed
// units, systemd-sysusers makes a jai account strict mode accepts, systemd-tmpfiles makes /var/lib/jai 0700 and
// never cleans /run/jai, the man pages render without warnings, and scripts/uninstall.sh removes it all again.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkHelperBinary } from '../../daemon/helper-binary';
import { checkSandboxAccount } from '../../daemon/sandbox-account';
import { privilegedSkipReason } from '../helpers/privileged';
import { REPO } from '../helpers/fixture';

const skip = privilegedSkipReason();

const PREFIX = '/usr/local';
const LIBDIR = `${PREFIX}/lib/jai`;
/** Host unit files copied into the DESTDIR so that `systemd-analyze verify --root` finds sysinit.target & co. */
const SYSTEM_UNITS = '/usr/lib/systemd/system';

/** Everything install.sh must put in place (final paths, without DESTDIR). */
const EXPECTED = [
  `${PREFIX}/bin/jai`,
  `${PREFIX}/bin/jaid`,
  `${PREFIX}/bin/jaictl`,
  '/etc/systemd/system/jaid.service',
  '/etc/systemd/system/jaid.socket',
  '/usr/lib/sysusers.d/jai.conf',
  '/usr/lib/tmpfiles.d/jai.conf',
  `${PREFIX}/share/man/man1/jai.1`,
  `${PREFIX}/share/man/man8/jaid.8`,
  `${PREFIX}/share/man/man8/jaictl.8`,
  '/usr/share/bash-completion/completions/jai',
  '/usr/share/bash-completion/completions/jaictl',
  `${LIBDIR}/package.json`,
  `${LIBDIR}/bin/jai`,
  `${LIBDIR}/bin/jaid`,
  `${LIBDIR}/bin/jaictl`,
  `${LIBDIR}/dist/daemon/main.js`,
  `${LIBDIR}/dist/daemon/audit/audit-log.js`,
  `${LIBDIR}/dist/client/cli/main.js`,
  `${LIBDIR}/dist/client/ctl/main.js`,
  `${LIBDIR}/dist/native/addon/index.js`,
  `${LIBDIR}/dist/proto/codec.js`,
  `${LIBDIR}/dist/proto/gen/jai.js`,
  `${LIBDIR}/native/build/jai-helper`,
  `${LIBDIR}/native/build/jai_addon.node`,
  `${LIBDIR}/node_modules/better-sqlite3/package.json`,
  `${LIBDIR}/node_modules/better-sqlite3/lib/index.js`,
  `${LIBDIR}/node_modules/better-sqlite3/build/Release/better_sqlite3.node`,
  `${LIBDIR}/node_modules/bindings/package.json`,
  `${LIBDIR}/node_modules/file-uri-to-path/package.json`,
  `${LIBDIR}/node_modules/pino/package.json`,
  `${LIBDIR}/node_modules/sonic-boom/package.json`,
  `${LIBDIR}/node_modules/thread-stream/package.json`,
  `${LIBDIR}/node_modules/protobufjs/package.json`,
  `${LIBDIR}/node_modules/long/package.json`,
];

/** Build-only or development parts that must stay behind. */
const LEFT_OUT = [
  `${LIBDIR}/node_modules/prebuild-install`,
  `${LIBDIR}/node_modules/typescript`,
  `${LIBDIR}/node_modules/better-sqlite3/deps`,
  `${LIBDIR}/node_modules/better-sqlite3/src`,
  `${LIBDIR}/node_modules/better-sqlite3/build/Release/obj`,
  `${LIBDIR}/dist/test`,
  `${LIBDIR}/dist/bench`,
  `${LIBDIR}/dist/daemon/main.d.ts`,
  `${LIBDIR}/dist/daemon/main.js.map`,
];

/** Runs from / unless told otherwise: nothing may depend on the checkout being the current directory. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd = '/'): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', env, cwd, timeout: 120_000 });
}

function explain(r: SpawnSyncReturns<string>): string {
  return `status ${String(r.status)} signal ${String(r.signal)}\n${r.stdout}${r.stderr}`;
}

/** Every path below dir (dir itself excluded), relative to it, sorted; directories end with '/'. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = path.join(rel, entry.name);
      if (entry.isDirectory()) {
        out.push(`${child}/`);
        walk(child);
      } else out.push(child);
    }
  };
  walk('');
  return out.sort();
}

const files = (listing: string[]): string[] => listing.filter((p) => !p.endsWith('/'));

describe('systemd units, install.sh and uninstall.sh', { skip }, () => {
  const temps: string[] = [];
  let destdir = '';
  let seeded: string[] = [];
  let env: NodeJS.ProcessEnv = {};
  const inDest = (p: string): string => path.join(destdir, p);
  const mkTemp = (name: string): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `jai-${name}-`));
    temps.push(dir);
    return dir;
  };

  before(() => {
    destdir = mkTemp('destdir');
    // Already there before the install: host units for verify, and files of other packages, which the
    // uninstall must leave alone.
    fs.mkdirSync(inDest('/usr/lib/systemd'), { recursive: true });
    fs.cpSync(SYSTEM_UNITS, inDest(SYSTEM_UNITS), { recursive: true, verbatimSymlinks: true });
    fs.mkdirSync(inDest('/etc/systemd/system'), { recursive: true });
    fs.writeFileSync(inDest('/etc/systemd/system/other.service'), '[Service]\nExecStart=/bin/true\n');
    seeded = tree(destdir);
    env = { ...process.env, DESTDIR: destdir, PREFIX };
    const r = run('bash', [path.join(REPO, 'scripts/install.sh')], env);
    assert.equal(r.status, 0, explain(r));
  });

  after(() => {
    for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('install.sh lays out every expected file, and leaves build-only parts behind', () => {
    for (const p of EXPECTED) assert.ok(fs.existsSync(inDest(p)), `${p} installed`);
    for (const p of LEFT_OUT) assert.equal(fs.existsSync(inDest(p)), false, `${p} not installed`);
    for (const cmd of ['jai', 'jaid'])
      assert.equal(fs.readlinkSync(inDest(`${PREFIX}/bin/${cmd}`)), `../lib/jai/bin/${cmd}`);
  });

  it('installs only runtime dependencies that npm lists outside the dev tree', () => {
    const r = run('npm', ['ls', '--omit=dev', '--all', '--parseable'], process.env, REPO);
    assert.equal(r.status, 0, explain(r));
    const runtime = new Set(r.stdout.split('\n').map((line) => path.relative(REPO, line.trim())));
    // Package directories, nested ones included (node_modules/a/node_modules/b).
    const installed = tree(inDest(LIBDIR))
      .filter((p) => /^(?:node_modules\/(?:@[^/]+\/)?[^/@][^/]*\/)+$/.test(p))
      .map((p) => p.slice(0, -1));
    assert.ok(installed.length > 5, installed.join(' '));
    for (const p of installed) assert.ok(runtime.has(p), `${p} is a runtime dependency`);
  });

  it('installs everything root-owned and not writable by group or others, the helper 0755', () => {
    const seededSet = new Set(seeded);
    for (const rel of tree(destdir)) {
      if (seededSet.has(rel)) continue;
      const st = fs.lstatSync(path.join(destdir, rel));
      if (st.isSymbolicLink()) continue; // a symlink has no permissions of its own
      assert.equal(st.uid, 0, `${rel} owned by root`);
      assert.equal(st.mode & 0o022, 0, `${rel} mode ${(st.mode & 0o7777).toString(8)}`);
    }
    const helper = inDest(`${LIBDIR}/native/build/jai-helper`);
    assert.equal(fs.statSync(helper).mode & 0o7777, 0o755);
    assert.equal(checkHelperBinary(helper), null, 'jaid accepts the installed helper');
  });

  it('runs the installed jai and jaid from the DESTDIR, loading nothing from outside it', () => {
    const lib = inDest(LIBDIR);
    // Reports every module loaded from outside the installed tree (node: built-ins are not files).
    const probe = path.join(mkTemp('probe'), 'probe.js');
    fs.writeFileSync(
      probe,
      `process.on('exit', () => { const outside = Object.keys(require.cache).filter((f) => f !== __filename && !f.startsWith(${JSON.stringify(`${lib}/`)}));` +
        ` if (outside.length > 0) { process.stderr.write('loaded from outside: ' + outside.join(' ') + '\\n'); process.exitCode = 99; } });\n`,
    );
    const isolated = { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: '/nonexistent' };
    const version = run(process.execPath, ['--require', probe, path.join(lib, 'bin/jai'), '--version'], isolated);
    assert.equal(version.status, 0, explain(version));
    assert.match(version.stdout, /^jai \d+\.\d+\.\d+/);
    assert.match(version.stdout, /NO WARRANTY/);
    // Through the symlink in PREFIX/bin and its #! line, as a user runs it.
    const viaLink = run(inDest(`${PREFIX}/bin/jai`), ['--version'], isolated);
    assert.equal(viaLink.status, 0, explain(viaLink));
    assert.match(viaLink.stdout, /NO WARRANTY/);
    // jaid --help has loaded every daemon module (pino, better-sqlite3, protobufjs, the addon) when it prints.
    const help = run(process.execPath, ['--require', probe, inDest(`${PREFIX}/bin/jaid`), '--help'], isolated);
    assert.equal(help.status, 0, explain(help));
    assert.match(help.stdout, /^usage: jaid /);
    // The trimmed better-sqlite3 (no sources, no build objects) still opens a database, through the audit log.
    const db = path.join(mkTemp('db'), 'audit.db');
    const open = run(
      process.execPath,
      [
        '--require',
        probe,
        '-e',
        `const { AuditLog } = require(${JSON.stringify(`${lib}/dist/daemon/audit/audit-log.js`)});` +
          ` new AuditLog(${JSON.stringify(db)}).close();`,
      ],
      isolated,
    );
    assert.equal(open.status, 0, explain(open));
    assert.equal(fs.statSync(db).mode & 0o777, 0o600);
  });

  it('substitutes the library directory in the service and keeps jaid in the host mount namespace', () => {
    const unit = fs.readFileSync(inDest('/etc/systemd/system/jaid.service'), 'utf8');
    const settings = unit.split('\n').filter((line) => /^[A-Za-z]+=/.test(line));
    const has = (setting: string): boolean => settings.includes(setting);
    assert.ok(has(`ExecStart=${LIBDIR}/bin/jaid`), unit);
    assert.doesNotMatch(unit, /@LIBDIR@/);
    for (const s of [
      'Type=notify',
      'NotifyAccess=main',
      'Restart=on-failure',
      'KillMode=mixed',
      'StateDirectory=jai',
      'StateDirectoryMode=0700',
      'UMask=0077',
      'TasksMax=infinity',
      'OOMPolicy=continue',
      'Also=jaid.socket',
      'WantedBy=multi-user.target',
    ])
      assert.ok(has(s), `${s} in jaid.service`);
    // Each would give jaid its own mount namespace (overlays invisible to users), remove /run/jai on stop, or
    // break the helper or Node.
    for (const key of [
      'PrivateTmp',
      'ProtectSystem',
      'ProtectHome',
      'PrivateMounts',
      'PrivateDevices',
      'ProtectKernelTunables',
      'ProtectKernelModules',
      'ProtectKernelLogs',
      'ProtectControlGroups',
      'ReadOnlyPaths',
      'InaccessiblePaths',
      'TemporaryFileSystem',
      'BindPaths',
      'MountFlags',
      'RuntimeDirectory',
      'MemoryDenyWriteExecute',
      'RestrictNamespaces',
    ])
      assert.equal(
        settings.some((line) => line.startsWith(`${key}=`)),
        false,
        `${key}= in jaid.service`,
      );
    const socket = fs.readFileSync(inDest('/etc/systemd/system/jaid.socket'), 'utf8');
    assert.match(socket, /^ListenSequentialPacket=\/run\/jai\/jaid\.sock$/m);
    assert.match(socket, /^SocketMode=0666$/m);
    assert.match(socket, /^Service=jaid\.service$/m);
  });

  it('systemd-analyze verify accepts the installed units, and does check the ExecStart binary', () => {
    const verify = (): SpawnSyncReturns<string> =>
      run('systemd-analyze', [
        'verify',
        `--root=${destdir}`,
        '--man=no',
        '--recursive-errors=no',
        'jaid.service',
        'jaid.socket',
      ]);
    const r = verify();
    assert.equal(r.status, 0, explain(r));
    assert.equal(r.stderr, '');
    const jaid = inDest(`${LIBDIR}/bin/jaid`);
    fs.renameSync(jaid, `${jaid}.moved`);
    try {
      const missing = verify();
      assert.notEqual(missing.status, 0, explain(missing));
      assert.match(missing.stderr, /bin\/jaid is not executable/);
    } finally {
      fs.renameSync(`${jaid}.moved`, jaid);
    }
  });

  it('systemd-sysusers creates a jai account that strict mode accepts', () => {
    const root = mkTemp('sysusers');
    fs.mkdirSync(path.join(root, 'etc'));
    const r = run('systemd-sysusers', [`--root=${root}`, inDest('/usr/lib/sysusers.d/jai.conf')]);
    assert.equal(r.status, 0, explain(r));
    const line = fs
      .readFileSync(path.join(root, 'etc/passwd'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('jai:'));
    assert.ok(line !== undefined, 'jai in passwd');
    const [name, , uid, gid, gecos, dir, shell] = line.split(':');
    assert.equal(gecos, 'JAI sandbox untrusted user');
    assert.equal(dir, '/');
    assert.equal(shell, '/usr/sbin/nologin');
    assert.notEqual(Number(uid), 0);
    // The daemon's own acceptance rule for the account (uid and gid not 0, that GECOS, home /).
    const check = checkSandboxAccount({ name: name ?? '', uid: Number(uid), gid: Number(gid), gecos, dir, shell });
    assert.equal(check.ok, true, line);
  });

  it('systemd-tmpfiles creates /var/lib/jai 0700 and /run/jai 0755, and never cleans /run/jai', () => {
    const root = mkTemp('tmpfiles');
    const conf = inDest('/usr/lib/tmpfiles.d/jai.conf');
    const create = run('systemd-tmpfiles', [`--root=${root}`, '--create', conf]);
    assert.equal(create.status, 0, explain(create));
    for (const [dir, mode] of [
      ['var/lib/jai', 0o700],
      ['run/jai', 0o755],
    ] as const) {
      const st = fs.statSync(path.join(root, dir));
      assert.ok(st.isDirectory(), dir);
      assert.equal(st.uid, 0, dir);
      assert.equal(st.mode & 0o7777, mode, `${dir} mode ${(st.mode & 0o7777).toString(8)}`);
    }
    // A year-old file in a user's state directory survives --clean and --remove.
    const old = path.join(root, 'run/jai/someone/tmp/old');
    fs.mkdirSync(path.dirname(old), { recursive: true });
    fs.writeFileSync(old, '');
    const yearAgo = new Date(Date.now() - 365 * 24 * 3600 * 1000);
    fs.utimesSync(old, yearAgo, yearAgo);
    const clean = run('systemd-tmpfiles', [`--root=${root}`, '--clean', '--remove', conf]);
    assert.equal(clean.status, 0, explain(clean));
    assert.ok(fs.existsSync(old), 'not cleaned');
  });

  it('renders the man pages without warnings, and installs them unchanged', () => {
    for (const [page, installed] of [
      ['docs/jai.1', `${PREFIX}/share/man/man1/jai.1`],
      ['docs/jaid.8', `${PREFIX}/share/man/man8/jaid.8`],
      ['docs/jaictl.8', `${PREFIX}/share/man/man8/jaictl.8`],
    ] as const) {
      const file = path.join(REPO, page);
      const man = run('man', ['--warnings', '-l', '-Tutf8', file], { ...process.env, MANWIDTH: '80' });
      assert.equal(man.status, 0, explain(man));
      assert.equal(man.stderr, '', page);
      assert.ok(man.stdout.length > 1000, page);
      const groff = run('groff', ['-man', '-ww', '-z', file]);
      assert.equal(groff.status, 0, explain(groff));
      assert.equal(groff.stderr, '', page);
      assert.ok(fs.readFileSync(inDest(installed)).equals(fs.readFileSync(file)), installed);
    }
  });

  it('install.sh is idempotent', () => {
    const before = tree(destdir);
    const r = run('bash', [path.join(REPO, 'scripts/install.sh')], env);
    assert.equal(r.status, 0, explain(r));
    assert.deepEqual(tree(destdir), before);
  });

  it("uninstall.sh with another PREFIX leaves this installation's units, man pages and files alone", () => {
    const before = tree(destdir);
    const r = run('bash', [path.join(REPO, 'scripts/uninstall.sh')], { ...env, PREFIX: '/opt/other' });
    assert.equal(r.status, 0, explain(r));
    assert.match(r.stdout, /left the jaid units, sysusers, tmpfiles and completion alone/);
    assert.deepEqual(tree(destdir), before);
  });

  it('install.sh refuses to replace a lib/jai that is not a jai installation', () => {
    const other = mkTemp('foreign');
    fs.mkdirSync(path.join(other, 'opt/x/lib/jai'), { recursive: true });
    fs.writeFileSync(path.join(other, 'opt/x/lib/jai/keep'), 'not ours');
    const r = run('bash', [path.join(REPO, 'scripts/install.sh')], { ...env, DESTDIR: other, PREFIX: '/opt/x' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /is not a jai installation/);
    assert.equal(fs.readFileSync(path.join(other, 'opt/x/lib/jai/keep'), 'utf8'), 'not ours');
  });

  it('uninstall.sh removes everything install.sh put in place, and nothing else', () => {
    const r = run('bash', [path.join(REPO, 'scripts/uninstall.sh')], env);
    assert.equal(r.status, 0, explain(r));
    for (const p of EXPECTED) assert.equal(fs.existsSync(inDest(p)), false, `${p} removed`);
    assert.equal(fs.existsSync(inDest(LIBDIR)), false);
    assert.deepEqual(files(tree(destdir)), files(seeded));
    const again = run('bash', [path.join(REPO, 'scripts/uninstall.sh'), '--purge'], env);
    assert.equal(again.status, 0, explain(again));
  });
});

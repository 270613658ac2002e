// Checklist #11 and #12: root never writes through links the user planted in user-controlled trees. A changes dir
// entry `.config -> /etc` before a mask `.config/x`; `<jail>.changes`, `<jail>.work`, `<jail>.home` or `--storage`
// pointing at /etc; a `.work` symlink to a root-owned directory when `jai -u` cleans work dirs; masks with `..` or
// absolute. None may create, remove or change anything outside the user's own files.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { asUser, runJai, startFixture, type Fixture } from '../helpers/fixture';

const skip = privilegedSkipReason();

/** A fingerprint of /etc's top level: names, inode change times and modes (anything root would create or chmod). */
function etcState(): string {
  return fs
    .readdirSync('/etc')
    .sort()
    .map((name) => {
      const st = fs.lstatSync(path.join('/etc', name));
      return `${name} ${st.mode} ${st.uid} ${st.ctimeMs}`;
    })
    .join('\n');
}

describe('#11 #12 no root writes through user-planted links', { skip }, () => {
  let f: Fixture;
  let storage: string;
  let etcBefore: string;
  before(async () => {
    f = await startFixture('sec-links');
    storage = path.join(f.user.home, '.jai');
    etcBefore = etcState();
  });
  after(async () => {
    await f.teardown();
  });

  it('#12 a mask .config/x through a planted `.config -> /etc` in the changes dir writes nothing into /etc', (t) => {
    const changes = path.join(storage, 'evilmask.changes');
    asUser(f, () => {
      fs.mkdirSync(changes, { mode: 0o700 });
      fs.symlinkSync('/etc', path.join(changes, '.config'));
    });
    const r = runJai(f, ['-j', 'evilmask', '-m', 'casual', '--mask', '.config/jaisec-masked', 'true']);
    t.diagnostic(`status ${String(r.status)}: ${r.stderr.trim()}`);
    assert.equal(fs.existsSync('/etc/jaisec-masked'), false, `a whiteout in /etc: ${r.stderr}`);
    assert.equal(etcState(), etcBefore, '/etc unchanged');
    assert.ok(fs.lstatSync(path.join(changes, '.config')).isSymbolicLink(), 'the planted link left as it was');
  });

  it('#12 masks with `..` or an absolute path are refused before anything is done', () => {
    for (const mask of ['../../etc/jaisec-masked', '/etc/jaisec-masked', 'a/../../x']) {
      const r = runJai(f, ['-j', 'evilmask2', '-m', 'casual', '--mask', mask, 'true']);
      assert.notEqual(r.status, 0, `${mask}: ${r.stdout}`);
    }
    assert.equal(fs.existsSync('/etc/jaisec-masked'), false);
    assert.equal(etcState(), etcBefore);
  });

  for (const [jail, mode, link] of [
    ['evilchanges', 'casual', 'evilchanges.changes'],
    ['evilwork', 'casual', 'evilwork.work'],
    ['evilhome', 'strict', 'evilhome.home'],
    ['evilbare', 'bare', 'evilbare.home'],
  ] as const) {
    it(`#11 ${mode}: ${link} as a symlink to /etc is refused and /etc is untouched`, (t) => {
      asUser(f, () => {
        if (link.endsWith('.work')) fs.mkdirSync(path.join(storage, `${jail}.changes`), { mode: 0o700 });
        fs.symlinkSync('/etc', path.join(storage, link));
      });
      const r = runJai(f, ['-j', jail, '-m', mode, 'sh', '-c', 'touch ~/jaisec-through-link; echo ran']);
      t.diagnostic(`status ${String(r.status)}: ${r.stderr.trim()}`);
      assert.notEqual(r.status, 0, r.stdout);
      assert.equal(r.stdout, '', 'the program never ran');
      assert.equal(fs.existsSync('/etc/jaisec-through-link'), false);
      assert.equal(etcState(), etcBefore, '/etc unchanged (no work/, index/, whiteouts or chmod)');
    });
  }

  it('#11 --storage /etc and --storage through a symlink to /etc are refused', () => {
    const link = path.join(f.user.home, 'jaisec-storage-link');
    asUser(f, () => fs.symlinkSync('/etc', link));
    try {
      for (const dir of ['/etc', link]) {
        const r = runJai(f, ['--storage', dir, '-j', 'evilstorage', '-m', 'casual', 'true']);
        assert.notEqual(r.status, 0, `${dir}: ${r.stdout}`);
      }
      assert.equal(etcState(), etcBefore);
    } finally {
      fs.rmSync(link, { force: true });
    }
  });

  it('#11 jai -u does not clean a root-owned directory that a `.work` symlink points at', (t) => {
    const victim = fs.mkdtempSync('/var/tmp/jaisec-victim-');
    try {
      fs.mkdirSync(path.join(victim, 'work'));
      fs.writeFileSync(path.join(victim, 'work', 'keep'), '');
      fs.symlinkSync('/etc/hostname', path.join(victim, 'work', 'keep-link'));
      asUser(f, () => {
        fs.mkdirSync(path.join(storage, 'evilteardown.changes'), { mode: 0o700 });
        fs.symlinkSync(victim, path.join(storage, 'evilteardown.work'));
      });
      const r = runJai(f, ['-u']);
      t.diagnostic(`jai -u: status ${String(r.status)}: ${r.stderr.trim()}`);
      assert.ok(r.status === 0 || r.status === 1, r.stderr);
      assert.ok(fs.existsSync(path.join(victim, 'work', 'keep')), `root's empty file removed: ${r.stderr}`);
      assert.ok(fs.lstatSync(path.join(victim, 'work', 'keep-link')).isSymbolicLink());
    } finally {
      fs.rmSync(victim, { recursive: true, force: true });
    }
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { checkHelperBinary, openHelperBinary } from '../../daemon/helper-binary';
import * as native from '../../native/addon/index';

const isRoot = process.getuid?.() === 0;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jai-helperbin-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('helper binary trust check', { skip: isRoot ? false : 'needs files owned by root' }, () => {
  it('accepts a root-owned executable in root-owned dirs (a sticky /tmp above is fine)', () => {
    const bin = path.join(dir, 'jai-helper');
    fs.writeFileSync(bin, '#!/bin/sh\n', { mode: 0o755 });
    assert.equal(checkHelperBinary(bin), null);
  });

  it('refuses a helper others could replace', () => {
    const bin = path.join(dir, 'writable-helper');
    fs.writeFileSync(bin, '#!/bin/sh\n', { mode: 0o755 });
    fs.chmodSync(bin, 0o777);
    assert.match(checkHelperBinary(bin) ?? '', /must be owned by root and not group\/other writable/);
    const open = path.join(dir, 'open');
    fs.mkdirSync(open, { mode: 0o777 });
    fs.chmodSync(open, 0o777);
    const inOpen = path.join(open, 'jai-helper');
    fs.writeFileSync(inOpen, '#!/bin/sh\n', { mode: 0o755 });
    assert.match(checkHelperBinary(inOpen) ?? '', /not writable by others/);
    assert.match(checkHelperBinary(path.join(dir, 'missing')) ?? '', /ENOENT|no such file/i);
  });

  it('opens an ELF helper once and keeps the checked file even when the path is replaced (an upgrade)', () => {
    const bin = path.join(dir, 'elf-helper');
    fs.copyFileSync('/bin/true', bin);
    fs.chmodSync(bin, 0o755);
    const opened = openHelperBinary(bin);
    assert.ok(opened.ok, opened.ok ? '' : opened.message);
    try {
      const before = fs.fstatSync(opened.binary.fd).ino;
      fs.rmSync(bin);
      fs.copyFileSync('/bin/false', bin);
      assert.equal(fs.fstatSync(opened.binary.fd).ino, before, 'the fd is still the file opened at start');
      assert.notEqual(fs.statSync(bin).ino, before);
    } finally {
      native.closeFd(opened.binary.fd);
    }
  });

  it("refuses a script (it cannot be exec'd from an fd), a writable helper and a missing one", () => {
    const script = path.join(dir, 'script-helper');
    fs.writeFileSync(script, '#!/bin/sh\n', { mode: 0o755 });
    const refused = (p: string): string => {
      const r = openHelperBinary(p);
      if (r.ok) native.closeFd(r.binary.fd);
      return r.ok ? '' : r.message;
    };
    assert.match(refused(script), /not an ELF executable/);
    const writable = path.join(dir, 'writable-elf');
    fs.copyFileSync('/bin/true', writable);
    fs.chmodSync(writable, 0o777);
    assert.match(refused(writable), /must be owned by root and not group\/other writable/);
    assert.match(refused(path.join(dir, 'missing')), /cannot open \(ENOENT\)/);
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { checkHelperBinary } from '../../daemon/helper-binary';

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
});

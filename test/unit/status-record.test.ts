import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStatusRecord } from '../../daemon/session/status-record';

const parse = (text: string) => parseStatusRecord(Buffer.from(text));

describe('helper status records', () => {
  it('parses every record kind', () => {
    assert.deepEqual(parse('pty'), { kind: 'pty' });
    assert.deepEqual(parse('started 1234'), { kind: 'started', pid: 1234 });
    assert.deepEqual(parse('exit 3'), { kind: 'exit', code: 3 });
    assert.deepEqual(parse('signal 9'), { kind: 'signal', signo: 9 });
    assert.deepEqual(parse('error 127 exec: nope: No such file or directory'), {
      kind: 'error',
      code: 127,
      stage: 'exec',
      message: 'nope: No such file or directory',
    });
    assert.deepEqual(parse('stopped 20'), { kind: 'stopped', signo: 20 });
    assert.deepEqual(parse('notice deleted /home/a/.jai/default.work/work/x'), {
      kind: 'notice',
      text: 'deleted /home/a/.jai/default.work/work/x',
    });
    assert.deepEqual(parse('masks-ignored /run/jai/a/default.home'), {
      kind: 'masks-ignored',
      path: '/run/jai/a/default.home',
    });
    assert.deepEqual(parse('changes 3 0'), { kind: 'changes', count: 3, truncated: false });
    assert.deepEqual(parse('changes 100000 1'), { kind: 'changes', count: 100000, truncated: true });
    assert.deepEqual(parse('changed .cache/x y'), { kind: 'changed', path: '.cache/x y' });
    assert.deepEqual(parse('error 125 no stage here'), {
      kind: 'error',
      code: 125,
      stage: '',
      message: 'no stage here',
    });
  });

  it('rejects anything malformed', () => {
    for (const bad of [
      '',
      'pty x',
      'started',
      'started 0',
      'started -1',
      'exit 256',
      'exit x',
      'signal 0',
      'signal 65',
      'error',
      'error x msg',
      'bogus 1',
      'exit 1 2',
      'notice',
      'stopped 9',
      'stopped',
      'masks-ignored relative',
      'changes',
      'changes 3',
      'changes 3 2',
      'changes -1 0',
      'changes 3 0 x',
      'changed',
      'changed /abs',
    ])
      assert.equal(parse(bad), null, bad);
    assert.equal(parseStatusRecord(Buffer.alloc(5000, 0x61)), null);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDaemonArgs, type DaemonOptions } from '../../daemon/options';

const defaults: DaemonOptions = {
  socketPath: '/run/jai/jaid.sock',
  socketMode: 0o666,
  auditDb: '/var/lib/jai/audit.db',
  helperPath: '/opt/jai/native/build/jai-helper',
  logLevel: 'info',
  auditRetentionDays: 0,
};

describe('jaid options', () => {
  it('keeps the defaults and reads every option, with = or a separate value', () => {
    assert.deepEqual(parseDaemonArgs([], defaults), { ok: true, options: defaults });
    const parsed = parseDaemonArgs(
      [
        '--socket=/run/jai/x.sock',
        '--socket-mode',
        '0660',
        '--audit-db',
        '/srv/a.db',
        '--log-level=debug',
        '--audit-retention-days',
        '90',
      ],
      defaults,
    );
    assert.deepEqual(parsed, {
      ok: true,
      options: {
        ...defaults,
        socketPath: '/run/jai/x.sock',
        socketMode: 0o660,
        auditDb: '/srv/a.db',
        logLevel: 'debug',
        auditRetentionDays: 90,
      },
    });
  });

  it('refuses bad values with a message naming the option', () => {
    const message = (args: string[]): string => {
      const r = parseDaemonArgs(args, defaults);
      return r.ok ? '' : r.message;
    };
    assert.match(message(['--socket', '/tmp/x.sock']), /must be under \/run\/jai/);
    assert.match(message(['--socket-mode', '999']), /--socket-mode/);
    assert.match(message(['--log-level', 'loud']), /--log-level/);
    assert.match(message(['--audit-retention-days', '-1']), /--audit-retention-days/);
    assert.match(message(['--bogus']), /unknown option --bogus/);
    assert.match(message(['--helper']), /requires an argument/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDaemonConfig } from '../../daemon/config-file';
import { parseDaemonArgs, parseDuration, type DaemonOptions } from '../../daemon/options';
import { DEFAULT_CLIENT_LIMITS } from '../../daemon/server/client-limits';

const defaults: DaemonOptions = {
  socketPath: '/run/jai/jaid.sock',
  socketMode: 0o666,
  auditDb: '/var/lib/jai/audit.db',
  helperPath: '/opt/jai/native/build/jai-helper',
  logLevel: 'info',
  auditRetentionDays: 0,
  auditRetentionRows: 0,
  auditFailure: 'refuse',
  helperZygote: true,
  policyPath: null,
  adminSocketPath: '/run/jai/admin.sock',
  adminSocketMode: 0o660,
  sandboxIdBase: 0x70000000,
  sandboxIdCount: 0x10000000,
  clientLimits: { ...DEFAULT_CLIENT_LIMITS },
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
    assert.match(message(['--audit-failure', 'ignore']), /--audit-failure: one of refuse, allow/);
    assert.match(message(['--bogus']), /unknown option --bogus/);
    assert.match(message(['--helper']), /requires an argument/);
  });

  it('reads the admin socket, policy and row-retention options', () => {
    const parsed = parseDaemonArgs(
      [
        '--admin-socket=/run/jai/a.sock',
        '--admin-socket-mode',
        '0666',
        '--policy',
        '/srv/p.toml',
        '--audit-retention-rows=500',
      ],
      defaults,
    );
    assert.deepEqual(parsed, {
      ok: true,
      options: {
        ...defaults,
        adminSocketPath: '/run/jai/a.sock',
        adminSocketMode: 0o666,
        policyPath: '/srv/p.toml',
        auditRetentionRows: 500,
      },
    });
    const refused = (args: string[]): string => {
      const r = parseDaemonArgs(args, defaults);
      return r.ok ? '' : r.message;
    };
    assert.match(refused(['--admin-socket', '/tmp/a.sock']), /--admin-socket must be under \/run\/jai/);
    assert.match(refused(['--admin-socket', '/run/jai/jaid.sock']), /must differ/);
    assert.match(refused(['--audit-retention-rows', '-1']), /--audit-retention-rows/);
  });

  it('reads the sandbox id range, from the flags or jaid.toml, and refuses one past 2^31 - 1', () => {
    assert.deepEqual(parseDaemonArgs(['--sandbox-id-base', '100000', '--sandbox-id-count=65536'], defaults), {
      ok: true,
      options: { ...defaults, sandboxIdBase: 100000, sandboxIdCount: 65536 },
    });
    const file = parseDaemonConfig('sandbox_id_base = 2000000000\nsandbox_id_count = "1000"\n', '/j.toml');
    assert.ok(Array.isArray(file));
    assert.deepEqual(
      parseDaemonArgs([], defaults, () => file),
      { ok: true, options: { ...defaults, sandboxIdBase: 2000000000, sandboxIdCount: 1000 } },
    );
    const refused = (args: string[]): string => {
      const r = parseDaemonArgs(args, defaults);
      return r.ok ? '' : r.message;
    };
    assert.match(refused(['--sandbox-id-base', '0']), /--sandbox-id-base: not a number from 65536 to 2147483647/);
    assert.match(refused(['--sandbox-id-base', '65535']), /--sandbox-id-base: not a number/);
    assert.match(refused(['--sandbox-id-base', '2147483648']), /--sandbox-id-base: not a number/);
    assert.match(refused(['--sandbox-id-base', '0x70000000']), /--sandbox-id-base: not a number/);
    assert.match(refused(['--sandbox-id-count', '0']), /--sandbox-id-count: not a number from 1/);
    assert.match(refused(['--sandbox-id-count', '-5']), /--sandbox-id-count: not a number/);
    // The default base with a larger count, or a larger base with the default count: past 2^31 - 1.
    assert.match(refused(['--sandbox-id-count', '268435457']), /goes past 2147483647/);
    assert.match(refused(['--sandbox-id-base', '1879048193']), /goes past 2147483647/);
    assert.equal(refused(['--sandbox-id-base', '2147483647', '--sandbox-id-count', '1']), '');
  });

  it('reads --helper-zygote on|off from the flags and from jaid.toml (helper_zygote)', () => {
    assert.deepEqual(parseDaemonArgs(['--helper-zygote=off'], defaults), {
      ok: true,
      options: { ...defaults, helperZygote: false },
    });
    const file = parseDaemonConfig('helper_zygote = "off"\n', '/etc/jai/jaid.toml');
    assert.ok(Array.isArray(file));
    assert.deepEqual(
      parseDaemonArgs([], defaults, () => file),
      {
        ok: true,
        options: { ...defaults, helperZygote: false },
      },
    );
    assert.deepEqual(
      parseDaemonArgs(['--helper-zygote', 'on'], defaults, () => file),
      { ok: true, options: defaults },
    );
    const boolean = parseDaemonConfig('helper_zygote = false\n', '/etc/jai/jaid.toml');
    assert.deepEqual(boolean, [['--helper-zygote', 'off', '/etc/jai/jaid.toml:1: helper_zygote']]);
    const refused = parseDaemonArgs(['--helper-zygote', 'no'], defaults);
    assert.deepEqual(refused, { ok: false, message: '--helper-zygote: on or off, not no', usage: false });
  });

  it('reads --audit-failure from the flags and from jaid.toml (audit_failure)', () => {
    assert.deepEqual(parseDaemonArgs(['--audit-failure=allow'], defaults), {
      ok: true,
      options: { ...defaults, auditFailure: 'allow' },
    });
    const file = parseDaemonConfig('audit_failure = "allow"\n', '/etc/jai/jaid.toml');
    assert.ok(Array.isArray(file));
    assert.deepEqual(
      parseDaemonArgs([], defaults, () => file),
      { ok: true, options: { ...defaults, auditFailure: 'allow' } },
    );
    assert.deepEqual(
      parseDaemonArgs(['--audit-failure', 'refuse'], defaults, () => file),
      { ok: true, options: defaults },
    );
  });

  it('takes settings from jaid.toml, with the flags winning over the file', () => {
    const file = parseDaemonConfig(
      'log_level = "debug"\nsocket_mode = 0o660\naudit_retention_days = 30\n',
      '/etc/jai/jaid.toml',
    );
    assert.ok(Array.isArray(file));
    const calls: [string, boolean][] = [];
    const parsed = parseDaemonArgs(['--log-level', 'warn'], defaults, (f, explicit) => {
      calls.push([f, explicit]);
      return file;
    });
    assert.deepEqual(calls, [['/etc/jai/jaid.toml', false]]);
    assert.deepEqual(parsed, {
      ok: true,
      options: { ...defaults, logLevel: 'warn', socketMode: 0o660, auditRetentionDays: 30 },
    });
    parseDaemonArgs(['--config', '/srv/j.toml'], defaults, (f, explicit) => {
      calls.push([f, explicit]);
      return null;
    });
    assert.deepEqual(calls[1], ['/srv/j.toml', true]);
  });

  it('refuses a bad jaid.toml naming the file, line and key', () => {
    assert.deepEqual(parseDaemonConfig('\nbogus = 1\n', '/etc/jai/jaid.toml'), {
      problem: `/etc/jai/jaid.toml:2: bogus: unknown setting (known: ${[
        'socket',
        'audit_db',
        'helper',
        'socket_mode',
        'admin_socket',
        'admin_socket_mode',
        'policy',
        'audit_retention_rows',
        'log_level',
        'audit_retention_days',
        'sandbox_id_base',
        'sandbox_id_count',
        'max_connections',
        'max_connections_per_uid',
        'max_setups_per_uid',
        'spawn_rate',
        'spawn_burst',
        'request_timeout',
        'max_packet_bytes',
        'helper_zygote',
        'audit_failure',
      ].join(', ')})`,
    });
    assert.match(
      JSON.stringify(parseDaemonConfig('log_level = [1]\n', '/x.toml')),
      /\/x.toml:1: log_level: must be a string/,
    );
    assert.match(JSON.stringify(parseDaemonConfig('log_level = \n', '/x.toml')), /\/x.toml:1:\d+: /);
    assert.match(JSON.stringify(parseDaemonConfig('"(" = 1\n', '/x.toml')), /\/x.toml:1: \(: unknown setting/);
    const bad = parseDaemonArgs([], defaults, () => ({ problem: '/x.toml:3: socket: nope' }));
    assert.deepEqual(bad, { ok: false, message: '/x.toml:3: socket: nope', usage: false });
  });

  it('reads every client limit, from flags and jaid.toml, in the units people write', () => {
    const parsed = parseDaemonArgs(
      [
        '--max-connections=1000',
        '--max-connections-per-uid',
        '50',
        '--max-setups-per-uid=4',
        '--spawn-rate',
        '2.5/s',
        '--spawn-burst=10',
        '--request-timeout',
        '1.5s',
        '--max-packet-bytes=32K',
      ],
      defaults,
    );
    assert.deepEqual(parsed, {
      ok: true,
      options: {
        ...defaults,
        clientLimits: {
          maxConnections: 1000,
          maxConnectionsPerUid: 50,
          maxSetupsPerUid: 4,
          spawnRate: 2.5,
          spawnBurst: 10,
          requestTimeoutMs: 1500,
          maxPacketBytes: 32 * 1024,
        },
      },
    });
    // The defaults object itself is never written to.
    assert.deepEqual(defaults.clientLimits, DEFAULT_CLIENT_LIMITS);
    const file = parseDaemonConfig('spawn_rate = 0.5\nrequest_timeout = "2m"\nmax_setups_per_uid = 8\n', '/j.toml');
    assert.ok(Array.isArray(file));
    const fromFile = parseDaemonArgs([], defaults, () => file);
    assert.ok(fromFile.ok && 'options' in fromFile);
    assert.deepEqual(fromFile.options.clientLimits, {
      ...DEFAULT_CLIENT_LIMITS,
      spawnRate: 0.5,
      requestTimeoutMs: 120_000,
      maxSetupsPerUid: 8,
    });
    assert.equal(parseDuration('250'), 250);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('10s'), 10_000);
    assert.equal(parseDuration('1h'), null);
    assert.equal(parseDuration('-1s'), null);
  });

  it('refuses absurd client limits as refused values (exit 1), not usage errors', () => {
    const result = (args: string[]) => parseDaemonArgs(args, defaults);
    const cases: [string[], RegExp][] = [
      [['--max-connections', '0'], /--max-connections: 0 is out of range \(16 to 65536\)/],
      [['--max-connections', '10000000'], /--max-connections: 10000000 is out of range/],
      [['--max-connections-per-uid', 'many'], /--max-connections-per-uid: not a number of connections: many/],
      [['--max-setups-per-uid', '0'], /--max-setups-per-uid: 0 is out of range \(1 to 4096\)/],
      [['--spawn-rate', '0'], /--spawn-rate: 0 is out of range \(0.1 to 100000\)/],
      [['--spawn-rate', '-5'], /--spawn-rate: not a number per second: -5/],
      [['--spawn-rate', '1e9'], /--spawn-rate: not a number per second/],
      [['--spawn-burst', '0'], /--spawn-burst: 0 is out of range/],
      [['--request-timeout', '10'], /--request-timeout: 10 is out of range \(100 to 600000\)/],
      [['--request-timeout', '1d'], /--request-timeout: not a time/],
      [['--max-packet-bytes', '1M'], /--max-packet-bytes: 1M is out of range \(4096 to 65536\)/],
      [['--max-packet-bytes', '100'], /--max-packet-bytes: 100 is out of range/],
      [
        ['--max-connections', '100', '--max-connections-per-uid', '200'],
        /--max-connections-per-uid \(200\) is over --max-connections \(100\)/,
      ],
    ];
    for (const [args, pattern] of cases) {
      const r = result(args);
      assert.ok(!r.ok, args.join(' '));
      assert.match(r.message, pattern);
      assert.equal(r.usage, false, args.join(' '));
    }
    const missing = result(['--spawn-rate']);
    assert.ok(!missing.ok && missing.usage, 'a missing argument is a usage error');
    const unknown = result(['--spawn-speed', '1']);
    assert.ok(!unknown.ok && unknown.usage, 'an unknown option is a usage error');
  });
});

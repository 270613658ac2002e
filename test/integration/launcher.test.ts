// bin/jai, run as users run it (its #! line, not `node bin/jai`): the client does not load NODE_EXTRA_CA_CERTS (it
// does no TLS, and the certificates cost ~40 ms of every start), yet the jailed program gets the variable exactly as
// the user had it, and does not get it when the user had none.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { envOf } from '../helpers/env-output';
import { privilegedSkipReason } from '../helpers/privileged';
import { startFixture, type Fixture } from '../helpers/fixture';

const skip = privilegedSkipReason();
// node warns at startup when it cannot read the file NODE_EXTRA_CA_CERTS names: the client must not print this.
const NODE_CERT_WARNING = /Ignoring extra certs/;

describe('bin/jai launcher', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('launcher');
  });
  after(async () => {
    await f.teardown();
  });

  /** `jai env -0` exec'd directly (the launcher's #!/bin/sh), with NODE_EXTRA_CA_CERTS as given (undefined: unset). */
  function jailedEnv(extraCerts: string | undefined, viaNode = false) {
    const env: Record<string, string> = {
      HOME: f.user.home,
      USER: f.user.name,
      PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`,
      JAI_SOCKET: f.socket,
      ...(extraCerts === undefined ? {} : { NODE_EXTRA_CA_CERTS: extraCerts }),
    };
    const jai = path.join(f.clientDir, 'bin/jai');
    const r = spawnSync(viaNode ? process.execPath : jai, [...(viaNode ? [jai] : []), 'env', '-0'], {
      cwd: f.project,
      uid: f.user.uid,
      gid: f.user.gid,
      env,
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 0, r.stderr);
    return { env: envOf(r.stdout), stderr: r.stderr };
  }

  it('passes NODE_EXTRA_CA_CERTS to the jail unchanged, without loading it in the client', () => {
    const value = '/nonexistent dir/certs \'"$x.pem';
    const { env, stderr } = jailedEnv(value);
    assert.equal(env.get('NODE_EXTRA_CA_CERTS'), value);
    assert.doesNotMatch(stderr, NODE_CERT_WARNING);
    assert.equal([...env.keys()].filter((k) => k.startsWith('JAI_LAUNCHER')).length, 0, 'no launcher variable');
  });

  it('passes an empty NODE_EXTRA_CA_CERTS as empty', () => {
    assert.equal(jailedEnv('').env.get('NODE_EXTRA_CA_CERTS'), '');
  });

  it('gives the jail no NODE_EXTRA_CA_CERTS when the user had none', () => {
    const { env } = jailedEnv(undefined);
    assert.equal(env.has('NODE_EXTRA_CA_CERTS'), false);
    assert.equal([...env.keys()].filter((k) => k.startsWith('JAI_LAUNCHER')).length, 0, 'no launcher variable');
  });

  it('loads no node builtin that `node -e 0` does not, but vm, for a session without a terminal', () => {
    // Each builtin costs every `jai CMD` its load (node:net and the streams were ~7 ms): docs/benchmarks.md.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jai-modules-'));
    const preload = path.join(dir, 'modules.js');
    fs.writeFileSync(
      preload,
      "process.on('exit', () => require('fs').writeSync(2, `\\nMODULES ${process.moduleLoadList.join(',')}\\n`));",
    );
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(preload, 0o644);
    const modules = (command: string, args: string[]): Set<string> => {
      const r = spawnSync(command, args, {
        cwd: f.project,
        uid: f.user.uid,
        gid: f.user.gid,
        env: {
          HOME: f.user.home,
          PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`,
          JAI_SOCKET: f.socket,
          NODE_OPTIONS: `--require ${preload}`,
        },
        encoding: 'utf8',
        timeout: 20_000,
      });
      assert.equal(r.status, 0, r.stderr);
      const line = /^MODULES (.*)$/m.exec(r.stderr);
      assert.ok(line !== null, r.stderr);
      return new Set(line[1]?.split(','));
    };
    try {
      const node = modules(process.execPath, ['-e', '0']);
      const jai = modules(path.join(f.clientDir, 'bin/jai'), ['true']);
      const extra = [...jai].filter((m) => !node.has(m));
      // signal_wrap: the forwarded signals' handlers, set once the session started.
      assert.deepEqual(extra, ['NativeModule vm', 'Internal Binding signal_wrap']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('started as `node bin/jai` (no launcher), still passes the variable through', () => {
    const value = '/nonexistent/certs.pem';
    const { env, stderr } = jailedEnv(value, true);
    assert.equal(env.get('NODE_EXTRA_CA_CERTS'), value);
    assert.match(stderr, NODE_CERT_WARNING, 'node itself loaded it this time');
  });
});

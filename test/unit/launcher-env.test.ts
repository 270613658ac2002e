import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { restoreLauncherEnv } from '../../client/cli/launcher-env';

describe('restoreLauncherEnv', () => {
  it('puts NODE_EXTRA_CA_CERTS back as bin/jai saved it, spaces, quotes and empty values included', () => {
    for (const value of ['/etc/ssl/certs/ca.pem', '', ' a "b" \'c\' $d=e ']) {
      const env: Record<string, string | undefined> = { JAI_LAUNCHER_NODE_EXTRA_CA_CERTS: `set:${value}`, A: '1' };
      restoreLauncherEnv(env);
      assert.deepEqual(env, { A: '1', NODE_EXTRA_CA_CERTS: value });
    }
  });

  it('leaves NODE_EXTRA_CA_CERTS unset when the user had none', () => {
    const env: Record<string, string | undefined> = { JAI_LAUNCHER_NODE_EXTRA_CA_CERTS: 'unset', A: '1' };
    restoreLauncherEnv(env);
    assert.deepEqual(env, { A: '1' });
  });

  it('changes nothing without the launcher (jai started as `node bin/jai`)', () => {
    const env: Record<string, string | undefined> = { NODE_EXTRA_CA_CERTS: '/x.pem' };
    restoreLauncherEnv(env);
    assert.deepEqual(env, { NODE_EXTRA_CA_CERTS: '/x.pem' });
  });

  it('drops a malformed launcher value without inventing NODE_EXTRA_CA_CERTS', () => {
    const env: Record<string, string | undefined> = { JAI_LAUNCHER_NODE_EXTRA_CA_CERTS: 'bogus' };
    restoreLauncherEnv(env);
    assert.deepEqual(env, {});
  });
});

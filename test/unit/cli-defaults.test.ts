import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { readConfigEntries } from '../../client/cli/config-file';
import { DEFAULT_CONF, DEFAULT_JAIL, DEFAULT_JAIRC, DEFAULTS, newJailFile } from '../../client/cli/defaults';
import { VERSION_TEXT } from '../../client/cli/version';
import { CliFixture } from './cli-fixture';

function active(text: string): string[] {
  return readConfigEntries(text).map((e) => e.word.replace(/^--/, '').replace('=', ' '));
}

const MASKS = [
  '.jai',
  '.ssh',
  '.gnupg',
  '.local/share/keyrings',
  '.netrc',
  '.git-credentials',
  '.aws',
  '.azure',
  '.config/gcloud',
  '.config/gh',
  '.config/Keybase',
  '.config/kube',
  '.docker',
  '.password-store',
  '.mozilla',
  '.config/BraveSoftware',
  '.config/chromium',
  '.config/google-chrome',
  '.config/mozilla',
  '.bash_history',
  '.zsh_history',
];

const UNSET = [
  '*_ACCESS_KEY',
  '*_APIKEY',
  '*_API_KEY',
  '*_AUTH',
  '*_AUTH_TOKEN',
  '*_CONNECTION_STRING',
  '*_CREDENTIAL',
  '*_CREDENTIALS',
  '*_PASSWD',
  '*_PASSWORD',
  '*_PID',
  '*_PRIVATE_KEY',
  '*_PWD',
  '*_SECRET',
  '*_SECRET_KEY',
  '*_SOCK',
  '*_SOCKET',
  '*_SOCKET_PATH',
  '*_TOKEN',
  'AZURE_CLIENT_ID',
  'AZURE_TENANT_ID',
  'BB_AUTH_STRING',
  'DATABASE_URL',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'KUBECONFIG',
  'MAIL',
  'MONGODB_URI',
  'MONGO_URI',
  'REDIS_URL',
  'SENTRY_DSN',
  'SLACK_WEBHOOK_URL',
];

describe('the built-in .defaults', () => {
  it('has exactly the active lines of upstream’s defaults', () => {
    assert.deepEqual(active(DEFAULTS), [
      'script? .jairc',
      'command source "${JAI_SCRIPT:-/dev/null}"; "$0" "$@"',
      ...MASKS.map((m) => `mask ${m}`),
      ...UNSET.map((u) => `unsetenv ${u}`),
      'setenv USER=${JAI_USER}',
      'setenv LOGNAME=${JAI_USER}',
    ]);
    assert.equal(MASKS.length, 21);
    assert.equal(UNSET.length, 31);
  });

  it('has no mode, storage or jail line, only commented examples of them', () => {
    assert.match(DEFAULTS, /^# storage \/some\/local\/directory\/\$\{JAI_USER\}\/\.jai$/m);
    assert.match(DEFAULTS, /^# mode casual$/m);
    assert.match(DEFAULTS, /^# mode bare$/m);
    assert.match(DEFAULTS, /^# mode strict$/m);
    assert.match(DEFAULTS, /^# jail default$/m);
  });

  it('is what --print-defaults prints and what jai writes to $CFG/.defaults, byte for byte', () => {
    const f = new CliFixture();
    try {
      const printed = f.output(['--print-defaults']).stdout;
      f.launch(['true']);
      assert.equal(fs.readFileSync(path.join(f.cfg, '.defaults'), 'utf8'), printed);
      assert.equal(printed, DEFAULTS);
    } finally {
      f.cleanup();
    }
  });
});

describe('the other files jai creates', () => {
  it('default.conf only includes .defaults', () => {
    assert.deepEqual(active(DEFAULT_CONF), ['conf .defaults']);
    assert.match(DEFAULT_CONF, /^#/);
  });

  it('default.jail sets casual mode; a new named jail records the mode in effect', () => {
    assert.deepEqual(active(DEFAULT_JAIL), ['mode casual']);
    assert.match(DEFAULT_JAIL, /^#/);
    assert.equal(newJailFile('strict'), 'mode strict\n');
  });

  it('.jairc is only comments (examples), so sourcing it changes nothing', () => {
    for (const line of DEFAULT_JAIRC.split('\n')) assert.ok(line === '' || line.startsWith('#'), line);
  });
});

describe('--version text', () => {
  it('names the untrusted user and carries the NO WARRANTY notice', () => {
    assert.match(VERSION_TEXT, /^jai \S+/);
    assert.match(VERSION_TEXT, /\nUntrusted user for strict mode: jai\n\n/);
    assert.match(VERSION_TEXT, /This program comes with NO WARRANTY/);
    assert.match(VERSION_TEXT, /GPL/);
  });
});

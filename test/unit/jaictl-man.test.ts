// docs/jaictl.8 renders without a warning from man or groff, and documents every command, option and exit status
// that jaictl --help lists.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { HELP } from '../../client/ctl/help';

const PAGE = path.resolve(__dirname, '../../../docs/jaictl.8');
const hasMan = spawnSync('man', ['--version']).status === 0 && spawnSync('groff', ['--version']).status === 0;

describe('jaictl(8)', () => {
  it('renders with no warnings at 80 columns', { skip: !hasMan && 'man or groff is not installed' }, () => {
    const man = spawnSync('man', ['--warnings', '-l', '-Tutf8', PAGE], {
      encoding: 'utf8',
      env: { ...process.env, MANWIDTH: '80' },
    });
    assert.equal(man.status, 0, man.stderr);
    assert.equal(man.stderr, '');
    // Bold and underline are overstruck (X backspace X): keep the letters.
    // eslint-disable-next-line no-control-regex -- the backspace is the point
    const text = man.stdout.replace(/.\u0008/g, '');
    for (const section of [
      'NAME',
      'SYNOPSIS',
      'DESCRIPTION',
      'COMMANDS',
      'OPTIONS',
      'EXIT STATUS',
      'ENVIRONMENT',
      'FILES',
      'EXAMPLES',
      'SEE ALSO',
    ])
      assert.match(text, new RegExp(`^${section}$`, 'm'), section);
    const groff = spawnSync('groff', ['-man', '-ww', '-z', PAGE], { encoding: 'utf8' });
    assert.equal(groff.status, 0, groff.stderr);
    assert.equal(groff.stderr, '');
  });

  it('covers what --help lists', () => {
    const page = fs.readFileSync(PAGE, 'utf8').replace(/\\-/g, '-');
    const options = new Set(HELP.match(/--[a-z]+/g) ?? []);
    for (const option of options) assert.ok(page.includes(option), option);
    for (const command of [
      'sessions',
      'show',
      'kill',
      'audit',
      'policy check',
      'policy reload',
      'policy show',
      'health',
    ])
      assert.ok(page.includes(command), command);
    for (const code of ['0', '1', '2', '3'])
      assert.match(page, new RegExp(`^\\.TP\\n\\.B ${code}\\n`, 'm'), `exit ${code}`);
    assert.match(page, /JAI_ADMIN_SOCKET/);
  });
});

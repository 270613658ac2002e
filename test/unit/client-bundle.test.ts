// The client bundle and its code cache as the build leaves them (scripts/bundle-client.js, `npm run build`): bin/jai
// runs the bundle with the cache only when the build id on the bundle's first line heads the cache and V8 accepts
// the rest. A cache that is rejected costs every `jai` start ~10 ms, silently: this test makes it loud.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const REPO = path.join(__dirname, '../../..');
const DIR = path.join(REPO, 'dist/client/cli');
const BUILD_ID = /^\/\/ (jai-code-cache:[0-9a-f]{16}:) /;

/** bin/jai's check and V8's verdict, in a node started as bin/jai starts it (no flags). */
const PROBE = `
const fs = require('node:fs');
const vm = require('node:vm');
const [file, cacheFile] = process.argv.slice(1);
const source = fs.readFileSync(file, 'utf8');
const cache = fs.readFileSync(cacheFile);
const id = source.slice(3, 35);
const script = new vm.Script(source, { filename: file, cachedData: cache.subarray(32) });
process.stdout.write(JSON.stringify({ idMatches: cache.toString('latin1', 0, 32) === id, rejected: script.cachedDataRejected }));
`;

describe('the client bundle', () => {
  it('starts with its build id, which heads its code cache', () => {
    const source = fs.readFileSync(path.join(DIR, 'jai.bundle.js'), 'utf8');
    const id = BUILD_ID.exec(source)?.[1];
    assert.ok(id !== undefined, `first line: ${source.slice(0, source.indexOf('\n'))}`);
    assert.equal(id.length, 32, "bin/jai's BUILD_ID_LENGTH");
    const cache = fs.readFileSync(path.join(DIR, 'jai.bundle.cache'));
    assert.equal(cache.toString('latin1', 0, id.length), id);
  });

  it('has a code cache V8 accepts', () => {
    const args = ['-e', PROBE, path.join(DIR, 'jai.bundle.js'), path.join(DIR, 'jai.bundle.cache')];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { idMatches: true, rejected: false });
  });

  it("gives each module its own file's name, relative to the installation's root", () => {
    const source = fs.readFileSync(path.join(DIR, 'jai.bundle.js'), 'utf8');
    const files = [...source.matchAll(/^files\[(\d+)\] = ("[^"\n]*");$/gm)].map(
      (m) => JSON.parse(m[2] ?? '""') as string,
    );
    const dirs = [...source.matchAll(/^dirs\[(\d+)\] = ("[^"\n]*");$/gm)].map(
      (m) => JSON.parse(m[2] ?? '""') as string,
    );
    assert.ok(files.length > 20, `${files.length} modules`);
    assert.equal(files[0], 'dist/client/cli/main.js');
    assert.deepEqual(
      dirs,
      files.map((f) => path.posix.dirname(f)),
    );
    for (const file of files) assert.ok(fs.existsSync(path.join(REPO, file)), file);
  });

  it('is ASCII (node reads it into a one-byte string, without UTF-8 decoding)', () => {
    const bytes = fs.readFileSync(path.join(DIR, 'jai.bundle.js'));
    assert.equal(
      bytes.findIndex((b) => b > 0x7f),
      -1,
    );
  });
});

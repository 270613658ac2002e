// protobufjs reads and writes 64-bit fields (Limits.memory_bytes) through the `long` package when it is installed;
// the generated code is --force-number, so the messages encode to the same bytes, and decode to the same values,
// without it (the client's codec, proto/client-codec.ts, has numbers only).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';

const CODEC = path.join(__dirname, '../../proto/codec.js');
const PROBE = `
const Module = require('node:module');
if (process.argv[2] === 'without') {
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    if (request === 'long') throw Object.assign(new Error('no long'), { code: 'MODULE_NOT_FOUND' });
    return resolve.call(this, request, ...rest);
  };
}
const codec = require(${JSON.stringify(CODEC)});
const spawn = {
  argv: ['true'], env: ['A=1'], mode: 1, umask: 18,
  limits: { memoryBytes: 2 ** 40 + 3, pids: 512, cpuMillis: 1500 },
  terminal: { rows: 24, cols: 80 },
};
const bytes = codec.encodeClientMessage({ spawn });
const back = codec.decodeClientMessage(bytes);
const exited = codec.decodeDaemonMessage(codec.encodeDaemonMessage({ exited: { code: 3 } }));
process.stdout.write(JSON.stringify({
  hex: Buffer.from(bytes).toString('hex'),
  memoryBytes: String(back.message.spawn.limits.memoryBytes),
  exited: exited.message.exited.code,
}));
`;

function probe(mode: 'with' | 'without'): unknown {
  const r = spawnSync(process.execPath, ['-e', PROBE, mode], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('codec without the long package', () => {
  it('encodes and decodes the client messages exactly as with it', () => {
    const without = probe('without');
    assert.deepEqual(without, probe('with'));
    assert.equal((without as { memoryBytes: string }).memoryBytes, String(2 ** 40 + 3));
  });
});

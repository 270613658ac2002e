import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_PACKET_BYTES, decodeClientMessage, encodeClientMessage, v1 } from '../../proto/codec';

describe('wire codec', () => {
  it('round-trips a spawn request', () => {
    const bytes = encodeClientMessage({ spawn: { argv: ['echo', 'hi'], cwd: '/x', stdin: v1.StdioKind.STDIO_PTY } });
    const decoded = decodeClientMessage(bytes);
    assert.ok(decoded.ok);
    assert.equal(decoded.message.body, 'spawn');
    assert.deepEqual(decoded.message.spawn?.argv, ['echo', 'hi']);
  });

  it('refuses garbage, truncation, bad varints and oversize packets without throwing', () => {
    const good = encodeClientMessage({ spawn: { argv: ['a'.repeat(100)] } });
    for (const bad of [
      Buffer.from([0xff, 0xff, 0xff]),
      good.subarray(0, good.length - 10),
      Buffer.from([0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
      Buffer.from([0x12, 0xff, 0xff, 0xff, 0xff, 0x0f]),
      Buffer.alloc(MAX_PACKET_BYTES + 1),
    ]) {
      const decoded = decodeClientMessage(bad);
      assert.equal(decoded.ok, false);
    }
  });

  it('refuses unknown fields rather than ignoring them, at the top and nested', () => {
    // Field 50, varint 1: tag (50 << 3) | 0 = 400, a two-byte varint.
    const unknownField = Buffer.from([0x90, 0x03, 0x01]);
    assert.deepEqual(decodeClientMessage(unknownField), { ok: false, reason: 'unknown fields' });
    const spawn = Buffer.from(v1.SpawnRequest.encode({ argv: ['true'] }).finish());
    const wrap = (body: Buffer): Buffer => Buffer.concat([Buffer.from([0x12, body.length]), body]);
    assert.equal(decodeClientMessage(wrap(spawn)).ok, true, 'the same request without it is fine');
    const nested = decodeClientMessage(wrap(Buffer.concat([spawn, unknownField])));
    assert.deepEqual(nested, { ok: false, reason: 'unknown fields' });
  });

  it('decodes a random byte soup without throwing', () => {
    let seed = 12345;
    const next = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let i = 0; i < 5000; i++) {
      const bytes = Buffer.alloc(next() % 64, 0).map(() => next() & 0xff);
      const decoded = decodeClientMessage(bytes);
      assert.equal(typeof decoded.ok, 'boolean');
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EscapeFilter, MAX_SEQUENCE_BYTES } from '../../client/terminal/escape-filter';

const E = '\x1b';
const ST = `${E}\\`;

function filter(text: string | Buffer): string {
  const f = new EscapeFilter();
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return Buffer.concat([f.push(bytes), f.end()]).toString('utf8');
}

describe('terminal escape filter', () => {
  it('passes text, colours, cursor movement, titles and links unchanged', () => {
    for (const s of [
      'hello, wörld © ✓\n',
      `${E}[1;31mred${E}[0m ${E}[2J${E}[H${E}[?1049h${E}[?25l`,
      `${E}]0;my title\x07${E}]2;other${ST}`,
      `${E}]8;;https://example.com${ST}link${E}]8;;${ST}`,
      `${E}]11;rgb:00/00/00\x07`,
      `${E}[22;0t${E}[23;0t${E}[8;24;80t`,
      `${E}7${E}8${E}c`,
    ])
      assert.equal(filter(s), s);
  });

  it('removes OSC 52 (clipboard) and OSC 50 (font), BEL- or ST-terminated, keeping the text around them', () => {
    assert.equal(filter(`a${E}]52;c;cm0gLXJmIH4K\x07b`), 'ab');
    assert.equal(filter(`a${E}]52;c;?${ST}b`), 'ab');
    assert.equal(filter(`a${E}]50;?\x07b`), 'ab');
    assert.equal(filter(`a${E}]052;c;eA==\x07b`), 'ab');
  });

  it('removes OSC queries, title reports, DCS, APC, PM and SOS strings', () => {
    assert.equal(filter(`x${E}]10;?\x07y`), 'xy');
    assert.equal(filter(`x${E}]4;1;?${ST}y`), 'xy');
    assert.equal(filter(`x${E}[21ty`), 'xy');
    assert.equal(filter(`x${E}[20ty`), 'xy');
    assert.equal(filter(`x${E}P$qm${ST}y`), 'xy');
    assert.equal(filter(`x${E}Pq#0;2;0;0;0#0!10~${ST}y`), 'xy');
    assert.equal(filter(`x${E}_apc data${ST}y${E}^pm${ST}z${E}Xsos${ST}w`), 'xyzw');
  });

  it('treats the UTF-8 forms of the C1 introducers alike', () => {
    assert.equal(filter(Buffer.from([0x61, 0xc2, 0x9d, ...Buffer.from('52;c;eA==\x07'), 0x62])), 'ab');
    assert.equal(filter(Buffer.from([0x61, 0xc2, 0x90, ...Buffer.from('$qm'), 0x1b, 0x5c, 0x62])), 'ab');
    assert.equal(filter(Buffer.from([0x61, 0xc2, 0x9b, ...Buffer.from('21t'), 0x62])), 'ab');
    assert.equal(filter(Buffer.from([0xc2, 0xa9, 0xc2, 0xc2, 0xa9])), '©\ufffd©');
  });

  it('drops an over-long OSC whole and a cancelled one, and goes on', () => {
    assert.equal(filter(`a${E}]0;${'t'.repeat(MAX_SEQUENCE_BYTES + 10)}\x07b`), 'ab');
    assert.equal(filter(`a${E}]52;c;xx\x18b`), 'ab');
    assert.equal(filter(`a${E}[3\x18b`), 'ab');
    // An ESC inside a CSI starts a new sequence (as in the terminal), which is judged on its own.
    assert.equal(filter(`a${E}[1${E}]52;c;eA==\x07b`), 'ab');
    assert.equal(filter(`a${E}[1\n2m`), `a\n${E}[12m`);
  });

  it('drops an unfinished sequence at the end', () => {
    assert.equal(filter(`a${E}]52;c;xx`), 'a');
    assert.equal(filter(`a${E}P$q`), 'a');
  });

  it('gives the same output however the stream is cut into chunks', () => {
    const pieces = [
      'text ',
      '✓',
      `${E}[1;31m`,
      `${E}]52;c;eA==\x07`,
      `${E}]0;title${ST}`,
      `${E}[21t`,
      `${E}P$qm${ST}`,
      `${E}]10;?\x07`,
      '\x1b\x1b',
      `${E}]8;;u${ST}`,
    ];
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...pieces), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (parts, cuts) => {
          const whole = Buffer.from(parts.join(''), 'utf8');
          const f = new EscapeFilter();
          const points = [...new Set(cuts.map((c) => (whole.length === 0 ? 0 : c % whole.length)))].sort(
            (a, b) => a - b,
          );
          const out: Buffer[] = [];
          let at = 0;
          for (const p of [...points, whole.length]) {
            out.push(f.push(whole.subarray(at, p)));
            at = p;
          }
          out.push(f.end());
          assert.deepEqual(Buffer.concat(out), Buffer.from(filter(whole), 'utf8'));
        },
      ),
      { seed: 21, numRuns: 500 },
    );
  });

  it('never lets OSC 52 through, whatever surrounds it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (before, after) => {
        const bytes = Buffer.concat([
          Buffer.from(before),
          Buffer.from(`${E}[1`),
          Buffer.from(before),
          Buffer.from(`${E}]52;c;SECRET\x07`),
          Buffer.from(after),
        ]);
        const f = new EscapeFilter();
        const out = Buffer.concat([f.push(bytes), f.end()]);
        assert.ok(!out.includes(Buffer.from(']52;c;SECRET')));
      }),
      { seed: 52, numRuns: 2000 },
    );
  });
});

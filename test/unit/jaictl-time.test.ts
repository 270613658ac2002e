// --since/--until: ages and ISO 8601 times become the ISO UTC timestamps sent to the daemon; nonsense is refused.
process.env['TZ'] = 'Europe/Paris';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTime } from '../../client/ctl/time';

const NOW = new Date('2026-11-30T12:00:00.000Z');

function iso(text: string): string {
  const r = parseTime(text, NOW);
  assert.ok(r.ok, `${text}: ${r.ok ? '' : r.message}`);
  return r.iso;
}

describe('jaictl time arguments', () => {
  it('counts ages back from now', () => {
    assert.equal(iso('90s'), '2026-11-30T11:58:30.000Z');
    assert.equal(iso('30m'), '2026-11-30T11:30:00.000Z');
    assert.equal(iso('2h'), '2026-11-30T10:00:00.000Z');
    assert.equal(iso('7d'), '2026-11-23T12:00:00.000Z');
    assert.equal(iso('2w'), '2026-11-16T12:00:00.000Z');
    assert.equal(iso('0m'), '2026-11-30T12:00:00.000Z');
  });

  it('takes ISO 8601 with a zone as that instant', () => {
    assert.equal(iso('2026-11-30T10:15:00Z'), '2026-11-30T10:15:00.000Z');
    assert.equal(iso('2026-11-30T10:15:00.250Z'), '2026-11-30T10:15:00.250Z');
    assert.equal(iso('2026-11-30T10:15+02:00'), '2026-11-30T08:15:00.000Z');
    assert.equal(iso('2026-11-30T10:15:00-0530'), '2026-11-30T15:45:00.000Z');
  });

  it('reads a date or a time without a zone as local time (here Europe/Paris, UTC+1 in November)', () => {
    assert.equal(iso('2026-11-30'), '2026-11-29T23:00:00.000Z');
    assert.equal(iso('2026-11-30T14:00'), '2026-11-30T13:00:00.000Z');
    assert.equal(iso('2026-11-30 14:00:30'), '2026-11-30T13:00:30.000Z');
    assert.equal(iso('2026-07-01T14:00'), '2026-07-01T12:00:00.000Z');
  });

  it('refuses what is not a time, and impossible dates rather than rolling them over', () => {
    for (const text of [
      '',
      'yesterday',
      '30',
      '30 m',
      '-5m',
      '5y',
      '1.5h',
      '2026-11-31',
      '2026-02-29',
      '2026-13-01',
      '2026-11-30T24:00',
      '2026-11-30T12:60',
      '2026-11-30T12:00+25:00',
      '2026-11-30T12:00 UTC',
      '30/11/2026',
      '1999999999d',
    ]) {
      const r = parseTime(text, NOW);
      if (r.ok) assert.fail(`${text} should be refused`);
      assert.match(r.message, /invalid time/);
    }
  });
});

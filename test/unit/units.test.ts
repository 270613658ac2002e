import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_CPU, formatSize, parseCpu, parseSize } from '../../common/units';

describe('parseSize', () => {
  const cases: [string | number, number | null][] = [
    ['1024', 1024],
    ['0', 0],
    ['512K', 512 * 1024],
    ['512M', 512 * 1024 ** 2],
    ['8G', 8 * 1024 ** 3],
    ['2T', 2 * 1024 ** 4],
    ['8g', 8 * 1024 ** 3],
    [4194304, 4194304],
    ['8Q', null],
    ['8GB', null],
    ['8 G', null],
    [' 8G', null],
    ['-1', null],
    ['+1', null],
    ['1.5G', null],
    ['G', null],
    ['', null],
    [-1, null],
    [1.5, null],
    [Number.MAX_SAFE_INTEGER + 1, null],
    ['9999999999999999T', null],
  ];
  for (const [input, bytes] of cases) {
    it(`reads ${JSON.stringify(input)} as ${String(bytes)}`, () => assert.equal(parseSize(input), bytes));
  }
});

describe('formatSize', () => {
  const cases: [number, string][] = [
    [2147483648, '2G'],
    [8 * 1024 ** 3, '8G'],
    [1536 * 1024 ** 2, '1536M'],
    [4 * 1024 ** 2, '4M'],
    [1024 ** 5, '1024T'],
    [1000, '1000'],
    [0, '0'],
  ];
  for (const [bytes, text] of cases) {
    it(`writes ${bytes} as ${text}, which reads back`, () => {
      assert.equal(formatSize(bytes), text);
      assert.equal(parseSize(text), bytes);
    });
  }
});

describe('parseCpu', () => {
  const cases: [string, number | null][] = [
    ['2', 2],
    ['1.5', 1.5],
    ['0.25', 0.25],
    [String(MAX_CPU), MAX_CPU],
    ['0', null],
    ['0.0', null],
    ['1025', null],
    ['-1', null],
    ['.5', null],
    ['1.', null],
    ['1e3', null],
    ['Infinity', null],
    ['NaN', null],
    ['', null],
    ['2 ', null],
  ];
  for (const [input, cpu] of cases) {
    it(`reads ${JSON.stringify(input)} as ${String(cpu)}`, () => assert.equal(parseCpu(input), cpu));
  }
});

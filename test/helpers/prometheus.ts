// A strict parser of the Prometheus text exposition format 0.0.4, for tests: every line must be a HELP, a TYPE,
// another comment or a sample; a family's TYPE comes before its samples and its lines are contiguous; histogram
// buckets are cumulative, end in +Inf, and +Inf equals _count. Throws an Error naming the line on any violation.

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help: string | null;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES: readonly MetricType[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

function fail(lineNo: number, why: string, line: string): never {
  throw new Error(`line ${lineNo}: ${why}: ${JSON.stringify(line)}`);
}

function parseValue(text: string): number | null {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return null;
  return Number(text);
}

/** The label set `{a="x",b="y"}` starting at text[0] === '{'; returns the labels and the rest after '}'. */
function parseLabels(text: string, lineNo: number, line: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = Object.create(null) as Record<string, string>;
  let i = 1;
  for (;;) {
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const nameMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i));
    if (nameMatch === null) fail(lineNo, 'bad label name', line);
    const name = nameMatch[0];
    if (!LABEL_NAME.test(name) || name.startsWith('__')) fail(lineNo, `reserved or bad label name ${name}`, line);
    if (name in labels) fail(lineNo, `duplicate label ${name}`, line);
    i += name.length;
    if (text[i] !== '=' || text[i + 1] !== '"') fail(lineNo, 'expected =" after label name', line);
    i += 2;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) fail(lineNo, 'unterminated label value', line);
      if (c === '"') break;
      if (c === '\n') fail(lineNo, 'raw newline in label value', line);
      if (c === '\\') {
        const next = text[i + 1];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else fail(lineNo, 'bad escape in label value', line);
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    labels[name] = value;
    i++;
    if (text[i] === ',') {
      i++;
      if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    } else if (text[i] !== '}') fail(lineNo, 'expected , or } after label value', line);
  }
}

/** Which family a sample name belongs to, given the declared families. */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(name);
  if (direct !== undefined) return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const base = families.get(name.slice(0, -suffix.length));
    if (base !== undefined && (base.type === 'histogram' || (base.type === 'summary' && suffix !== '_bucket')))
      return base;
  }
  return undefined;
}

function labelKey(labels: Record<string, string>, without: string | null): string {
  return JSON.stringify(
    Object.keys(labels)
      .filter((k) => k !== without)
      .sort()
      .map((k) => [k, labels[k]]),
  );
}

function checkHistogram(family: Family): void {
  const series = new Map<string, { buckets: { le: number; value: number }[]; sum?: number; count?: number }>();
  const get = (key: string) => {
    let s = series.get(key);
    if (s === undefined) {
      s = { buckets: [] };
      series.set(key, s);
    }
    return s;
  };
  for (const sample of family.samples) {
    if (sample.name === `${family.name}_bucket`) {
      const le = sample.labels['le'];
      if (le === undefined) throw new Error(`${family.name}: bucket without le`);
      const bound = parseValue(le);
      if (bound === null || Number.isNaN(bound)) throw new Error(`${family.name}: bad le ${le}`);
      get(labelKey(sample.labels, 'le')).buckets.push({ le: bound, value: sample.value });
    } else if (sample.name === `${family.name}_sum`) {
      get(labelKey(sample.labels, null)).sum = sample.value;
    } else if (sample.name === `${family.name}_count`) {
      get(labelKey(sample.labels, null)).count = sample.value;
    } else {
      throw new Error(`${family.name}: unexpected histogram sample ${sample.name}`);
    }
  }
  for (const [key, s] of series) {
    const where = `${family.name}${key}`;
    if (s.buckets.length === 0 || s.sum === undefined || s.count === undefined)
      throw new Error(`${where}: histogram needs buckets, _sum and _count`);
    for (let i = 1; i < s.buckets.length; i++) {
      const prev = s.buckets[i - 1];
      const cur = s.buckets[i];
      if (prev === undefined || cur === undefined) continue;
      if (!(cur.le > prev.le)) throw new Error(`${where}: le bounds not increasing`);
      if (cur.value < prev.value) throw new Error(`${where}: buckets not cumulative at le=${cur.le}`);
    }
    const last = s.buckets[s.buckets.length - 1];
    if (last?.le !== Infinity) throw new Error(`${where}: no +Inf bucket`);
    if (last.value !== s.count) throw new Error(`${where}: +Inf bucket ${last.value} != _count ${s.count}`);
  }
}

/** The families by name, in order of appearance. */
export function parsePrometheusFamilies(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  const closed = new Set<string>();
  let current: string | null = null;
  const enter = (name: string) => {
    if (current === name) return;
    if (closed.has(name)) throw new Error(`family ${name} is not contiguous`);
    if (current !== null) closed.add(current);
    current = name;
  };
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, index) => {
    const lineNo = index + 1;
    if (line === '') fail(lineNo, 'empty line', line);
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (m === null) {
        if (!line.startsWith('# ') && line !== '#') fail(lineNo, 'bad comment', line);
        return;
      }
      const [, kind, name = '', rest = ''] = m;
      if (!METRIC_NAME.test(name)) fail(lineNo, 'bad metric name', line);
      let family = families.get(name);
      if (kind === 'TYPE') {
        const type = TYPES.find((t) => t === rest);
        if (type === undefined) fail(lineNo, 'unknown type', line);
        if (family?.samples.length) fail(lineNo, 'TYPE after samples', line);
        if (family !== undefined && family.type !== 'untyped') fail(lineNo, 'second TYPE', line);
        enter(name);
        if (family === undefined) families.set(name, { name, type, help: null, samples: [] });
        else family.type = type;
      } else {
        if (/\\(?!n)/.test(rest.replace(/\\\\/g, ''))) fail(lineNo, 'bad escape in HELP', line);
        enter(name);
        if (family === undefined) {
          family = { name, type: 'untyped', help: null, samples: [] };
          families.set(name, family);
        } else if (family.help !== null) fail(lineNo, 'second HELP', line);
        family.help = rest;
      }
      return;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (nameMatch === null) fail(lineNo, 'not a sample', line);
    const name = nameMatch[0];
    let rest = line.slice(name.length);
    let labels: Record<string, string> = Object.create(null) as Record<string, string>;
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, lineNo, line));
    const fields = rest.split(' ');
    if (fields[0] !== '' || fields.length < 2 || fields.length > 3) fail(lineNo, 'expected " value [timestamp]"', line);
    const value = parseValue(fields[1] ?? '');
    if (value === null) fail(lineNo, 'bad value', line);
    if (fields[2] !== undefined && !/^-?\d+$/.test(fields[2])) fail(lineNo, 'bad timestamp', line);
    const family = familyOf(name, families);
    if (family === undefined) fail(lineNo, `sample before its TYPE`, line);
    if (family.type === 'untyped' && family.name !== name) fail(lineNo, 'sample of an undeclared family', line);
    enter(family.name);
    const key = `${name}${labelKey(labels, null)}`;
    if (seen.has(key)) fail(lineNo, 'duplicate sample', line);
    seen.add(key);
    if (family.type === 'counter' && (value < 0 || Number.isNaN(value))) fail(lineNo, 'negative counter', line);
    if (family.type !== 'histogram' && 'le' in labels) fail(lineNo, 'le label outside a histogram', line);
    family.samples.push({ name, labels, value });
  });
  for (const family of families.values()) {
    if (family.type === 'histogram') checkHistogram(family);
  }
  return families;
}

/** Every sample, in order (the strict checks of parsePrometheusFamilies apply). */
export function parsePrometheus(text: string): Sample[] {
  return [...parsePrometheusFamilies(text).values()].flatMap((f) => f.samples);
}

/** The value of the sample with exactly these labels, or undefined. */
export function sampleValue(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return samples.find((s) => s.name === name && labelKey(s.labels, null) === labelKey(labels, null))?.value;
}

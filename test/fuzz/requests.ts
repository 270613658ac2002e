// Client messages as fast-check arbitraries. Each SpawnRequest field has a pool of values the daemon must accept
// (written from docs/protocol.md and the field comments of proto/jai.proto, not from the validator) and a pool of
// hostile ones (NUL, U+FFFD, lone surrogates, `..`, values at and past every limit, enum values out of range).
import fc from 'fast-check';
import { MAX_PACKET_BYTES, encodeClientMessage, v1 } from '../../proto/codec';
import { LIMITS } from '../../daemon/server/validate';

export interface SpawnFields {
  argv: string[];
  cwd: string;
  env: string[];
  mode: number;
  jail: string;
  nocwd: boolean;
  grants: { path: string; access: number }[];
  masks: string[];
  storage: string;
  configDir: string;
  stdin: number;
  stdout: number;
  stderr: number;
  terminal: { rows: number; cols: number } | null;
  umask: number;
  actAsUser: string;
  script: string;
  initjail: string;
  network: number;
  limits: { memoryBytes: number; pids: number; cpuMillis: number } | null;
}

type FieldPools = { [K in keyof SpawnFields]: fc.Arbitrary<SpawnFields[K]> };

/** A request and whether every field came from the accepted pools (then the daemon must accept it). */
export interface GeneratedSpawn {
  fields: SpawnFields;
  allValid: boolean;
}

// ---- Strings.

/** Pieces that trip path and text checks. */
const HOSTILE_ATOMS = [
  '\0',
  '\uFFFD',
  '\uD800',
  '\uDFFF',
  '..',
  '.',
  '/',
  '//',
  '/./',
  '/../',
  '=',
  '\n',
  ' ',
  '$',
  '-',
  'é',
  '😀',
  '\u202E',
  'a',
  'Z',
  '_',
  'JAI_SCRIPT',
] as const;

/** `unit` repeated to `bytes` UTF-8 bytes (or a little over, for multi-byte units), cut to `bytes` code units. */
function repeatedTo(unit: string, bytes: number): string {
  const perUnit = Buffer.byteLength(unit, 'utf8');
  return unit.repeat(Math.ceil(bytes / perUnit)).slice(0, bytes);
}

/** Lengths at the limits that matter: user and jail names, paths, script, strings, the packet. */
const BOUNDARY_BYTES = [
  63, 64, 65, 254, 255, 256, 4094, 4095, 4096, 4097, 61439, 61440, 61441, 65535, 65536, 65537, 70000,
] as const;

const longString: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom('a', '/a', 'a/', 'é', '\0', '😀', '..', '/'),
    fc.oneof(fc.constantFrom(...BOUNDARY_BYTES), fc.integer({ min: 100, max: 70000 })),
  )
  .map(([unit, bytes]) => repeatedTo(unit, bytes));

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 16 }) },
  { weight: 4, arbitrary: fc.array(fc.constantFrom(...HOSTILE_ATOMS), { maxLength: 10 }).map((a) => a.join('')) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 16 }) },
  { weight: 1, arbitrary: longString },
);

const cleanChar = fc.constantFrom('a', 'b', 'Z', '0', '9', '.', '-', '_', ' ', 'é', '😀', '\n', '=', '$', ':', '~');

/** Text without NUL or U+FFFD: what the daemon accepts in argv, env values and the script. */
const cleanText = fc.string({ unit: cleanChar, maxLength: 24 });

const segment = fc.string({ unit: cleanChar, minLength: 1, maxLength: 10 }).filter((s) => s !== '.' && s !== '..');
const validRelative = fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('/'));
const validAbsolute: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.array(segment, { maxLength: 6 }).map((parts) => `/${parts.join('/')}`) },
  // At and just under the 4095-byte path limit.
  { weight: 1, arbitrary: fc.constantFrom(4093, 4094).map((n) => `/${'a'.repeat(n)}`) },
  { weight: 1, arbitrary: fc.constantFrom(4092, 4094).map((n) => repeatedTo('/a', n)) },
);
const validJail = fc.oneof(
  fc.constant(''),
  fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,20}$/),
  fc.constant(`j${'x'.repeat(254)}`),
);
const validUser = fc.oneof(
  fc.constant(''),
  fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,20}\$?$/),
  fc.constant(`u${'x'.repeat(63)}`),
);
const envName = fc.oneof(
  fc.constantFrom('PATH', 'HOME', 'TERM', 'LANG', 'A'),
  fc.string({ unit: cleanChar, minLength: 1, maxLength: 8 }).filter((s) => !s.includes('=')),
);
const validEnv = fc.tuple(envName, cleanText).map(([name, value]) => `${name}=${value}`);
const validArgv: fc.Arbitrary<string[]> = fc.oneof(
  fc.constant<string[]>([]),
  fc
    .tuple(fc.string({ unit: cleanChar, minLength: 1, maxLength: 12 }), fc.array(cleanText, { maxLength: 6 }))
    .map(([first, rest]) => [first, ...rest]),
);

/** Lists of exactly `n` entries (n at or one past a limit). */
function listOf(n: number, entry: (i: number) => string): string[] {
  return Array.from({ length: n }, (_, i) => entry(i));
}

// ---- Numbers: the wire's own domains (uint32, int32 enums, uint64), so a value can always be encoded.

const UINT32_MAX = 0xffffffff;
const uint32: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, 1, 0o777, 0o1000, 0xffff, 0x10000, 2 ** 31 - 1, 2 ** 31, UINT32_MAX),
  fc.integer({ min: 0, max: UINT32_MAX }),
);
const enumValue = (known: number): fc.Arbitrary<number> =>
  fc.oneof(fc.integer({ min: -2, max: known + 2 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
const uint64: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, 1, 2 ** 50, 2 ** 50 + 1, 2 ** 53 - 1, 2 ** 53, 2 ** 63, 2 ** 64),
  fc.maxSafeNat(),
);

const stdio = (valid: boolean): fc.Arbitrary<number> => (valid ? fc.integer({ min: 1, max: 3 }) : enumValue(3));

const VALID: FieldPools = {
  argv: fc.oneof(
    { weight: 20, arbitrary: validArgv },
    { weight: 1, arbitrary: fc.constant(listOf(LIMITS.argv, () => 'x')) },
    { weight: 1, arbitrary: fc.constant<string[]>(['a'.repeat(LIMITS.stringBytes)]) },
  ),
  cwd: validAbsolute,
  env: fc.oneof(
    { weight: 20, arbitrary: fc.array(validEnv, { maxLength: 6 }) },
    { weight: 1, arbitrary: fc.constant(listOf(LIMITS.env, (i) => `V${i}=1`)) },
  ),
  mode: fc.integer({ min: 0, max: 3 }),
  jail: validJail,
  nocwd: fc.boolean(),
  grants: fc.oneof(
    {
      weight: 20,
      arbitrary: fc.array(fc.record({ path: validAbsolute, access: fc.constantFrom(1, 2) }), { maxLength: 4 }),
    },
    { weight: 1, arbitrary: fc.constant(listOf(LIMITS.grants, (i) => `/g/${i}`).map((path) => ({ path, access: 1 }))) },
  ),
  masks: fc.oneof(
    { weight: 20, arbitrary: fc.array(validRelative, { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.constant(listOf(LIMITS.masks, (i) => `m/${i}`)) },
  ),
  storage: fc.oneof(fc.constant(''), validAbsolute),
  configDir: fc.oneof(fc.constant(''), validAbsolute),
  stdin: stdio(true),
  stdout: stdio(true),
  stderr: stdio(true),
  terminal: fc.option(fc.record({ rows: fc.nat({ max: 0xffff }), cols: fc.nat({ max: 0xffff }) })),
  umask: fc.nat({ max: 0o777 }),
  actAsUser: validUser,
  script: fc.oneof(
    { weight: 20, arbitrary: cleanText },
    { weight: 1, arbitrary: fc.constant('s'.repeat(LIMITS.scriptBytes)) },
  ),
  initjail: fc.oneof(fc.constant(''), validAbsolute),
  network: fc.integer({ min: 0, max: 3 }),
  limits: fc.option(
    fc.record({
      memoryBytes: fc.oneof(fc.constantFrom(0, LIMITS.memoryBytes), fc.nat()),
      pids: fc.oneof(fc.constantFrom(0, LIMITS.pids), fc.nat({ max: LIMITS.pids })),
      cpuMillis: fc.oneof(fc.constantFrom(0, LIMITS.cpuMillis), fc.nat({ max: LIMITS.cpuMillis })),
    }),
  ),
};

const hostileList = (limit: number, entry: (i: number) => string): fc.Arbitrary<string[]> =>
  fc.oneof(
    { weight: 20, arbitrary: fc.array(hostileString, { maxLength: 6 }) },
    { weight: 1, arbitrary: fc.constant(listOf(limit + 1, entry)) },
  );

const HOSTILE: FieldPools = {
  argv: hostileList(LIMITS.argv, () => 'x'),
  cwd: hostileString,
  env: hostileList(LIMITS.env, (i) => `V${i}=1`),
  mode: enumValue(3),
  jail: hostileString,
  nocwd: fc.boolean(),
  grants: fc.oneof(
    { weight: 20, arbitrary: fc.array(fc.record({ path: hostileString, access: enumValue(2) }), { maxLength: 4 }) },
    {
      weight: 1,
      arbitrary: fc.constant(listOf(LIMITS.grants + 1, (i) => `/g/${i}`).map((path) => ({ path, access: 1 }))),
    },
  ),
  masks: hostileList(LIMITS.masks, (i) => `m/${i}`),
  storage: hostileString,
  configDir: hostileString,
  stdin: stdio(false),
  stdout: stdio(false),
  stderr: stdio(false),
  terminal: fc.option(fc.record({ rows: uint32, cols: uint32 })),
  umask: uint32,
  actAsUser: hostileString,
  script: hostileString,
  initjail: hostileString,
  network: enumValue(3),
  limits: fc.option(fc.record({ memoryBytes: uint64, pids: uint32, cpuMillis: uint32 })),
};

const FIELD_NAMES = Object.keys(VALID) as (keyof SpawnFields)[];

/** `{ [name]: value }` for a value drawn from `pool`. */
function fieldPatch<K extends keyof SpawnFields>(
  name: K,
  pool: fc.Arbitrary<SpawnFields[K]>,
): fc.Arbitrary<Partial<SpawnFields>> {
  return pool.map((value) => {
    const patch: Partial<SpawnFields> = {};
    patch[name] = value;
    return patch;
  });
}

const MIXED = Object.fromEntries(
  FIELD_NAMES.map((name) => [name, fc.oneof({ weight: 3, arbitrary: VALID[name] }, HOSTILE[name])]),
) as FieldPools;

/**
 * Whole requests: all fields valid (must be accepted), all valid but one hostile field (each check in isolation),
 * or each field drawn from either pool.
 */
export const spawnFields: fc.Arbitrary<GeneratedSpawn> = fc.oneof(
  { weight: 2, arbitrary: fc.record(VALID).map((fields) => ({ fields, allValid: true })) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.record(VALID), fc.oneof(...FIELD_NAMES.map((name) => fieldPatch(name, HOSTILE[name]))))
      .map(([fields, patch]) => ({ fields: { ...fields, ...patch }, allValid: false })),
  },
  { weight: 1, arbitrary: fc.record(MIXED).map((fields) => ({ fields, allValid: false })) },
);

export function toSpawnRequest(f: SpawnFields): v1.SpawnRequest.$Properties {
  return { ...f, grants: f.grants.map((g) => ({ ...g })) };
}

const teardown = fc.record({
  jail: fc.oneof(VALID.jail, HOSTILE.jail),
  mode: fc.oneof(VALID.mode, HOSTILE.mode),
  storage: fc.oneof(VALID.storage, HOSTILE.storage),
  configDir: fc.oneof(VALID.configDir, HOSTILE.configDir),
  actAsUser: fc.oneof(VALID.actAsUser, HOSTILE.actAsUser),
});

/** Every kind of client message, including an empty one (no body). */
export const clientMessage: fc.Arbitrary<v1.ClientMessage.$Properties> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ version: uint32, agent: hostileString }).map((hello) => ({ hello })) },
  { weight: 5, arbitrary: spawnFields.map((s) => ({ spawn: toSpawnRequest(s.fields) })) },
  { weight: 1, arbitrary: uint32.map((signo) => ({ signal: { signo } })) },
  { weight: 2, arbitrary: teardown.map((t) => ({ teardown: t })) },
  { weight: 1, arbitrary: fc.constant({ continue: {} }) },
  { weight: 1, arbitrary: fc.constant({}) },
);

/** A valid spawn message of about `bytes` bytes: one long argv entry. Around the packet cap. */
export const messageNearTheCap: fc.Arbitrary<Uint8Array> = fc
  .oneof(fc.integer({ min: MAX_PACKET_BYTES - 16, max: MAX_PACKET_BYTES + 16 }), fc.integer({ min: 0, max: 70000 }))
  .map((bytes) => encodeClientMessage({ spawn: { argv: ['x'.repeat(Math.max(0, bytes - 10))], cwd: '/' } }));

// Checks the daemon's JSON against the shapes jaictl reads, so that a daemon of another version fails with a
// message naming the field instead of printing `undefined`. Unknown fields are ignored and strings stay strings
// (a new state or mode prints as it is).

export type Decoder<T> = (value: unknown, where: string) => T;

class DecodeError extends Error {
  constructor(where: string, expected: string) {
    super(`${where}: expected ${expected}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const str: Decoder<string> = (value, where) => {
  if (typeof value !== 'string') throw new DecodeError(where, 'a string');
  return value;
};

export const num: Decoder<number> = (value, where) => {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new DecodeError(where, 'a number');
  return value;
};

export const bool: Decoder<boolean> = (value, where) => {
  if (typeof value !== 'boolean') throw new DecodeError(where, 'true or false');
  return value;
};

export const unknownValue: Decoder<unknown> = (value) => value;

export const record: Decoder<Record<string, unknown>> = (value, where) => {
  if (!isRecord(value)) throw new DecodeError(where, 'an object');
  return value;
};

export function nullable<T>(decoder: Decoder<T>): Decoder<T | null> {
  return (value, where) => (value === null ? null : decoder(value, where));
}

export function arrayOf<T>(decoder: Decoder<T>): Decoder<T[]> {
  return (value, where) => {
    if (!Array.isArray(value)) throw new DecodeError(where, 'an array');
    return value.map((item: unknown, i) => decoder(item, `${where}[${i}]`));
  };
}

export function object<T extends object>(shape: { [K in keyof T]: Decoder<T[K]> }): Decoder<T> {
  return (value, where) => {
    if (!isRecord(value)) throw new DecodeError(where, 'an object');
    const out: Partial<T> = {};
    for (const key of Object.keys(shape) as (keyof T & string)[]) out[key] = shape[key](value[key], `${where}.${key}`);
    return out as T;
  };
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; message: string };

/** The one place a DecodeError is turned into a value. */
export function decode<T>(decoder: Decoder<T>, value: unknown, what: string): Decoded<T> {
  try {
    return { ok: true, value: decoder(value, what) };
  } catch (e: unknown) {
    if (e instanceof DecodeError) return { ok: false, message: e.message };
    throw e;
  }
}

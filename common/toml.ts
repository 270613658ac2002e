// smol-toml for CommonJS code: the package ships a CJS build (its `require` export), but its types only describe
// the ESM entry, which TypeScript refuses to import from a CJS module. The types are taken type-only.
import type * as SmolToml from 'smol-toml' with { 'resolution-mode': 'import' };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const toml = require('smol-toml') as typeof SmolToml;

export const parseToml = toml.parse;
export const TomlError = toml.TomlError;
export type TomlError = SmolToml.TomlError;
export const TomlDate = toml.TomlDate;
export type TomlDate = SmolToml.TomlDate;

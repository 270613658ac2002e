#!/usr/bin/env node
// Generates proto/gen/jai.js (static protobufjs code) and proto/gen/jai.d.ts from proto/jai.proto.
// The generated code is a build product and is never committed (see docs/protocol.md).
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const outDir = path.join(root, 'proto', 'gen');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
fs.mkdirSync(outDir, { recursive: true });
const js = path.join(outDir, 'jai.js');
execFileSync(
  bin('pbjs'),
  [
    '-t',
    'static-module',
    '-w',
    'commonjs',
    '--no-beautify',
    '--force-number',
    '--no-delimited',
    '--no-verify',
    '--no-convert',
    '--no-typeurl',
    '--no-service',
    '-o',
    js,
    path.join(root, 'proto', 'jai.proto'),
  ],
  { stdio: 'inherit' },
);
execFileSync(bin('pbts'), ['--no-comments', '-o', path.join(outDir, 'jai.d.ts'), js], { stdio: 'inherit' });
// tsc does not copy .js files: put the runtime module where dist/proto/*.js requires it.
const distDir = path.join(root, 'dist', 'proto', 'gen');
fs.mkdirSync(distDir, { recursive: true });
fs.copyFileSync(js, path.join(distDir, 'jai.js'));
// …and its declarations, so that dist/client/sdk/*.d.ts (the SDK's published types) resolve.
fs.copyFileSync(path.join(outDir, 'jai.d.ts'), path.join(distDir, 'jai.d.ts'));

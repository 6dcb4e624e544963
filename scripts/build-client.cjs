#!/usr/bin/env node
// Builds the SPA in client/ into client/dist (type check, then Vite), which the
// API serves at `/`. Skips the work when client/dist is newer than every source
// file, so `npm start` and `npm test` pay for it only after a change.
// Usage: node scripts/build-client.cjs [--force]
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const path = require('node:path');

const client = path.resolve(__dirname, '..', 'client');
const built = path.join(client, 'dist', 'index.html');
const SOURCES = ['src', 'public', 'index.html', 'vite.config.ts', 'tsconfig.json', 'package.json'];

/** Newest modification time under `target` (a file or a directory tree). */
function newest(target) {
  if (!existsSync(target)) return 0;
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(target).reduce((max, name) => Math.max(max, newest(path.join(target, name))), stat.mtimeMs);
}

function main() {
  const force = process.argv.includes('--force');
  if (!force && existsSync(built)) {
    const sources = Math.max(...SOURCES.map((name) => newest(path.join(client, name))));
    if (statSync(built).mtimeMs >= sources) return;
  }
  if (!existsSync(path.join(client, 'node_modules', 'vite'))) {
    console.error('client/node_modules is missing: run `node scripts/ensure-install.cjs` (or `npm install` in client/).');
    process.exit(1);
  }
  console.log('Building the client (client/dist)…');
  const run = (bin, args) => execFileSync(process.execPath, [path.join(client, 'node_modules', bin), ...args], { cwd: client, stdio: 'inherit' });
  run('typescript/bin/tsc', ['-p', 'tsconfig.json', '--noEmit']);
  run('vite/bin/vite.js', ['build', '--logLevel', 'warn']);
}

main();

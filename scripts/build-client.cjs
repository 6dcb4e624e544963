#!/usr/bin/env node
// Builds the SPA in client/ into client/dist (type check, then Vite), which the
// API serves at `/`. Skips the work when client/dist is newer than every source
// file, so `npm start` and `npm test` pay for it only after a change.
// Usage: node scripts/build-client.cjs [--force]
const { execFileSync } = require('node:child_process');
const { existsSync, mkdirSync, readdirSync, rmSync, statSync } = require('node:fs');
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

function upToDate() {
  if (!existsSync(built)) return false;
  const sources = Math.max(...SOURCES.map((name) => newest(path.join(client, name))));
  return statSync(built).mtimeMs >= sources;
}

/**
 * Test files run in parallel and each makes sure the client is built: a lock
 * directory (mkdir is atomic) lets one build while the others wait, then see
 * it up to date. A lock older than five minutes is a crashed build's.
 */
function withLock(work) {
  const lock = path.join(client, '.build-lock');
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const age = existsSync(lock) ? Date.now() - statSync(lock).mtimeMs : 0;
      if (age > 5 * 60_000) rmSync(lock, { recursive: true, force: true });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function main() {
  const force = process.argv.includes('--force');
  if (!force && upToDate()) return;
  withLock(() => {
    if (!force && upToDate()) return;
    build();
  });
}

function build() {
  if (!existsSync(path.join(client, 'node_modules', 'vite'))) {
    throw new Error('client/node_modules is missing: run `node scripts/ensure-install.cjs` (or `npm install` in client/).');
  }
  console.log('Building the client (client/dist)…');
  const run = (bin, args) => execFileSync(process.execPath, [path.join(client, 'node_modules', bin), ...args], { cwd: client, stdio: 'inherit' });
  run('typescript/bin/tsc', ['-p', 'tsconfig.json', '--noEmit']);
  run('vite/bin/vite.js', ['build', '--logLevel', 'warn']);
}

main();

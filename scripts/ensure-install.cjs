#!/usr/bin/env node
// Runs before `npm start` and `npm test`: installs node modules when they are
// missing or older than package.json, so a fresh clone needs only Node 20+.
// Plain CommonJS with no dependencies: it must run before anything is installed.
const { execSync } = require('node:child_process');
const { existsSync, statSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`Atelier needs Node.js 20.19 or newer (found ${process.versions.node}).`);
  process.exit(1);
}
const marker = path.join(root, 'node_modules', '.package-lock.json');
const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync(path.join(root, 'package.json')).mtimeMs;
if (stale) {
  console.log('Installing node modules (first run)…');
  // onnxruntime-node's install script would download CUDA files; the CPU build ships in the package.
  execSync('npm install --no-audit --no-fund', {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL_CUDA: 'skip' },
  });
}

// The SPA in client/ has its own package.json (React, Vite, codegen); same rule.
const client = path.join(root, 'client');
const clientMarker = path.join(client, 'node_modules', '.package-lock.json');
if (existsSync(path.join(client, 'package.json'))) {
  const clientStale = !existsSync(clientMarker) || statSync(clientMarker).mtimeMs < statSync(path.join(client, 'package.json')).mtimeMs;
  if (clientStale) {
    console.log('Installing the client\'s node modules (first run)…');
    execSync('npm install --no-audit --no-fund', { cwd: client, stdio: 'inherit' });
  }
}

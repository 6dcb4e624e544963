import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The client's typed documents (client/src/gql) are generated from the printed
// schema and the operations in client/src; committed output must match.
const ROOT = path.resolve(__dirname, '../..');
const CODEGEN = path.join(ROOT, 'client', 'node_modules', '@graphql-codegen', 'cli', 'cjs', 'bin.js');
const scratch: string[] = [];
afterAll(() => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function codegenCheck(cwd: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [CODEGEN, '--config', 'codegen.yml', '--check'], { cwd, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** A copy of what codegen reads (config, schema, client sources), to change without touching the tree. */
function copyOfInputs(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-codegen-'));
  scratch.push(dir);
  cpSync(path.join(ROOT, 'codegen.yml'), path.join(dir, 'codegen.yml'));
  cpSync(path.join(ROOT, 'src', 'schema', 'schema.graphql'), path.join(dir, 'src', 'schema', 'schema.graphql'));
  cpSync(path.join(ROOT, 'client', 'src'), path.join(dir, 'client', 'src'), { recursive: true });
  symlinkSync(path.join(ROOT, 'client', 'node_modules'), path.join(dir, 'client', 'node_modules'), 'dir');
  return dir;
}

describe('generated client types', () => {
  it('are up to date with src/schema/schema.graphql and the operations in client/src (run `npm run codegen`)', () => {
    const { status, output } = codegenCheck(ROOT);
    expect(status, output).toBe(0);
  }, 60_000);

  it('the check notices an operation that changed without regenerating', () => {
    const dir = copyOfInputs();
    const file = path.join(dir, 'client', 'src', 'operations', 'api-keys.ts');
    writeFileSync(file, readFileSync(file, 'utf8').replace('      lastUsedAt\n', ''));
    const { status, output } = codegenCheck(dir);
    expect(status).toBe(1);
    expect(output).toContain('client/src/gql/graphql.ts');
  }, 60_000);
});

import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The SDK's types (sdk/src/generated) come from the committed schema and
// sdk/src/operations.graphql; committed output must match, and the SDK must compile.
const ROOT = path.resolve(__dirname, '../..');
const CODEGEN = path.join(ROOT, 'client', 'node_modules', '@graphql-codegen', 'cli', 'cjs', 'bin.js');
const scratch: string[] = [];
afterAll(() => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function codegenCheck(cwd: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [CODEGEN, '--config', 'sdk/codegen.yml', '--check'], { cwd, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('the SDK\'s generated types', () => {
  it('are up to date with src/schema/schema.graphql and sdk/src/operations.graphql (run `npm run sdk:codegen`)', () => {
    const { status, output } = codegenCheck(ROOT);
    expect(status, output).toBe(0);
  }, 60_000);

  it('the check notices an operation that changed without regenerating', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'atelier-sdk-codegen-'));
    scratch.push(dir);
    cpSync(path.join(ROOT, 'src', 'schema', 'schema.graphql'), path.join(dir, 'src', 'schema', 'schema.graphql'));
    cpSync(path.join(ROOT, 'sdk'), path.join(dir, 'sdk'), { recursive: true, filter: (source) => !source.includes(`${path.sep}dist`) });
    mkdirSync(path.join(dir, 'client'));
    symlinkSync(path.join(ROOT, 'client', 'node_modules'), path.join(dir, 'client', 'node_modules'), 'dir');
    appendFileSync(path.join(dir, 'sdk', 'src', 'operations.graphql'), '\nquery SdkModels {\n  models {\n    id\n  }\n}\n');
    const { status, output } = codegenCheck(dir);
    expect(status).toBe(1);
    expect(output).toContain('sdk/src/generated/graphql.ts');
  }, 60_000);

  it('compile with the SDK\'s own tsconfig (what `npm run sdk:build` emits)', () => {
    const result = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'sdk/tsconfig.json', '--noEmit'], { cwd: ROOT, encoding: 'utf8' });
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
  }, 60_000);
});

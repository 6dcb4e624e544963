import { spawn } from 'node:child_process';
import path from 'node:path';

/** What a run of the CLI printed and how it exited. */
export interface CliRun { code: number | null; stdout: string; stderr: string }

/** The built binary (`npm test` builds dist/ first). */
const CLI = path.resolve(__dirname, '../../dist/src/cli/main.js');

/** Runs `atelier …` as a user or a script would, with only `env` (and PATH); stdout is a pipe, not a TTY. */
export function runCli(args: string[], env: Record<string, string>, input?: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (input !== undefined) proc.stdin!.end(input);
    let stdout = '';
    let stderr = '';
    // Piped (stdio above); spawn's types cannot tell with stdin decided at run time.
    proc.stdout!.on('data', (d) => (stdout += d.toString()));
    proc.stderr!.on('data', (d) => (stderr += d.toString()));
    proc.once('error', reject);
    proc.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

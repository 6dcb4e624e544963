import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const MAIN = path.resolve(__dirname, '../../dist/src/main.js');

export interface AtelierProcess {
  proc: ChildProcess;
  /** API base URL (api/all roles). */
  url: string | null;
  output: () => string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `node dist/src/main.js <role>` (built by `npm test` before vitest)
 * and resolves once it prints that it is ready.
 */
export function spawnAtelier(role: 'api' | 'worker' | 'all', env: Record<string, string>, timeoutMs = 60_000): Promise<AtelierProcess> {
  const proc = spawn(process.execPath, [MAIN, role], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d.toString()));
  proc.stderr!.on('data', (d) => (out += d.toString()));
  const kill = (signal: NodeJS.Signals = 'SIGTERM') =>
    new Promise<number | null>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode);
      proc.once('exit', (code) => resolve(code));
      proc.kill(signal);
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`atelier ${role} did not start:\n${out}`)), timeoutMs);
    const onData = () => {
      const match = out.match(/ready(?: at (http:\/\/\S+)\/graphql)?/);
      if (match) {
        clearTimeout(timer);
        proc.stdout!.off('data', onData);
        resolve({ proc, url: match[1] ?? null, output: () => out, kill });
      }
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`atelier ${role} exited with ${code}:\n${out}`));
    });
  });
}

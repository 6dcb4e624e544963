import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ErrorCode } from '../kernel/errors';
import { CliError } from './cli-error';

/** What `atelier login` stores: the server and one credential (a JWT or an API key, both sent as Bearer). */
export interface CliConfig {
  url?: string;
  credential?: { kind: 'token' | 'apiKey'; value: string; email?: string };
}

export const DEFAULT_URL = 'http://localhost:4000';

/** `$ATELIER_CONFIG_DIR/config.json`, else `~/.config/atelier/config.json`. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.ATELIER_CONFIG_DIR || path.join(os.homedir(), '.config', 'atelier');
  return path.join(dir, 'config.json');
}

export function readConfig(file = configPath()): CliConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  try {
    return JSON.parse(text) as CliConfig;
  } catch {
    throw new CliError(ErrorCode.BAD_USER_INPUT, `${file} is not valid JSON: run \`atelier login\` again`, 'config');
  }
}

/** Writes the config readable by its owner only: it holds a credential. */
export function writeConfig(config: CliConfig, file = configPath()): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  // `mode` applies only when the file is created; an older file keeps its mode otherwise.
  chmodSync(file, 0o600);
}

/** The server: `--url`, then ATELIER_URL, then the one `login` stored, then localhost:4000. */
export function serverUrl(flag: string | undefined, config: CliConfig, env: NodeJS.ProcessEnv = process.env): string {
  return (flag || env.ATELIER_URL || config.url || DEFAULT_URL).replace(/\/+$/, '');
}

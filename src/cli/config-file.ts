import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ErrorCode } from '../kernel/errors';
import { badCliInput, CliError } from './cli-error';

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
    const config = JSON.parse(text) as CliConfig;
    if (config && typeof config === 'object' && !Array.isArray(config)) return config;
  } catch {
    // Reported below, like a document that is not an object.
  }
  throw new CliError(ErrorCode.BAD_USER_INPUT, `${file} is not valid JSON: run \`atelier login\` again`, 'config');
}

/** The stored config, or nothing (and `damaged`) when it cannot be read: for `login`, which rewrites it. */
export function readConfigIfSound(file = configPath()): { config: CliConfig; damaged: boolean } {
  try {
    return { config: readConfig(file), damaged: false };
  } catch {
    return { config: {}, damaged: true };
  }
}

/** Writes the config readable by its owner only: it holds a credential. */
export function writeConfig(config: CliConfig, file = configPath()): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  // `mode` applies only when the file is created; an older file keeps its mode otherwise.
  chmodSync(file, 0o600);
}

/** The URL the user gave (`--url` or ATELIER_URL), checked; undefined when neither is set. */
export function givenUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = flag || env.ATELIER_URL;
  return given ? checkedUrl(given) : undefined;
}

/** The server: `--url`, then ATELIER_URL, then the one `login` stored, then localhost:4000. A malformed one is bad input. */
export function serverUrl(flag: string | undefined, config: CliConfig, env: NodeJS.ProcessEnv = process.env): string {
  return checkedUrl(flag || env.ATELIER_URL || config.url || DEFAULT_URL);
}

function checkedUrl(value: string): string {
  const url = value.trim().replace(/\/+$/, '');
  let protocol: string | null = null;
  try {
    protocol = new URL(url).protocol;
  } catch {
    // Reported below.
  }
  if (protocol !== 'http:' && protocol !== 'https:') throw badCliInput('url', `'${value}' is not an http(s) URL (--url or ATELIER_URL), e.g. http://localhost:4000`);
  return url;
}

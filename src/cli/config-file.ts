import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { badCliInput, CliError, errnoReason } from './cli-error';
import { folderObstacle } from './writable-folder';

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
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return {};
    throw unusable(file, 'read', code);
  }
  const again = 'run `atelier login` again';
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    throw badCliInput('config', `${file} is not valid JSON: ${again}`);
  }
  if (!config || typeof config !== 'object' || Array.isArray(config)) throw badCliInput('config', `${file} is not a JSON object: ${again}`);
  const { url, credential } = config as Record<string, unknown>;
  if (url !== undefined && (typeof url !== 'string' || !httpUrl(url))) {
    throw badCliInput('config', `"url" in ${file} is not an http(s) URL (${JSON.stringify(url)}): ${again}`);
  }
  if (credential !== undefined && (!credential || typeof credential !== 'object' || typeof (credential as { value?: unknown }).value !== 'string')) {
    throw badCliInput('config', `"credential" in ${file} is not a stored login: ${again}`);
  }
  return config as CliConfig;
}

/** A config file or folder the CLI cannot use (a folder where the file goes, a file where the folder goes, no permission). */
function unusable(file: string, doing: 'read' | 'write', code: string | undefined): CliError {
  return badCliInput('config', `cannot ${doing} ${file} (${errnoReason(code)}): fix it or set ATELIER_CONFIG_DIR to another folder`);
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
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    // `mode` applies only when the file is created; an older file keeps its mode otherwise.
    chmodSync(file, 0o600);
  } catch (error) {
    throw unusable(file, 'write', (error as NodeJS.ErrnoException).code);
  }
}

/** Refuses, before anything is sent, a config path that cannot be written (a folder at the file, a file at a folder above, no permission). */
export function checkConfigWritable(file = configPath()): void {
  let isFolder = false;
  try {
    isFolder = statSync(file).isDirectory();
  } catch {
    // Not there yet (or not reachable): the folder check below says why when it matters.
  }
  if (isFolder) throw unusable(file, 'write', 'EISDIR');
  const obstacle = folderObstacle(path.dirname(file));
  if (obstacle) throw badCliInput('config', `cannot write ${file} (${obstacle.at} is ${obstacle.why}): fix it or set ATELIER_CONFIG_DIR to another folder`);
}

/** The URL the user gave (`--url` or ATELIER_URL), checked; undefined when neither is set. */
export function givenUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (flag) return checkedUrl(flag, '--url');
  return env.ATELIER_URL ? checkedUrl(env.ATELIER_URL, 'ATELIER_URL') : undefined;
}

/**
 * The server: `--url`, then ATELIER_URL, then the one `login` stored, then
 * localhost:4000. A malformed one is bad input naming where it came from (the
 * stored one is checked by readConfig).
 */
export function serverUrl(flag: string | undefined, config: CliConfig, env: NodeJS.ProcessEnv = process.env): string {
  return givenUrl(flag, env) ?? checkedUrl(config.url || DEFAULT_URL, 'the config file');
}

/** The URL without trailing slashes when it is an http(s) URL, else null. */
function httpUrl(value: string): string | null {
  const url = value.trim().replace(/\/+$/, '');
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

function checkedUrl(value: string, source: string): string {
  const url = httpUrl(value);
  if (!url) throw badCliInput('url', `'${value}' is not an http(s) URL (${source}), e.g. http://localhost:4000`);
  return url;
}

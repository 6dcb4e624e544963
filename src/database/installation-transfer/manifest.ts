import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { AppError, ErrorCode } from '../../kernel/errors';
import { sha256, sha256OfFile } from '../../kernel/hashing';
import { digestLines } from './table-rows';

/** One table of an export: its row count and the SHA-256 of its dump. */
export interface TableSummary { name: string; rows: number; sha256: string }
/** One stored file of an export. */
export interface FileEntry { key: string; bytes: number; sha256: string }

/** `manifest.json` of an export directory: what `atelier import` verifies against. */
export interface Manifest {
  format: 'atelier-export';
  version: 1;
  exportedAt: string;
  /** Where it came from, for people (no secrets). */
  source: { database: string; storage: string };
  /** The migrations applied to the source; the target must have the same. */
  migrations: string[];
  /** Parents before children: the order an import inserts them in. */
  tables: TableSummary[];
  files: { count: number; bytes: number; sha256: string; entries: FileEntry[] };
}

/**
 * The layout of an export directory:
 * manifest.json, tables/<table>.jsonl (one row a line), files/<storage key>.
 */
export const exportPaths = (dir: string) => ({
  manifest: path.join(dir, 'manifest.json'),
  table: (name: string) => path.join(dir, 'tables', `${name}.jsonl`),
  file: (key: string) => path.join(dir, 'files', ...key.split('/')),
});

/** The checksum over all files: each key with its SHA-256, one a line, in key order. */
export const digestFiles = (entries: FileEntry[]): string => sha256(entries.map((e) => `${e.key} ${e.sha256}`).join('\n'));

export const refused = (message: string): AppError => new AppError(ErrorCode.CONFLICT, message);

export async function writeLines(file: string, lines: string[]): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, lines.length ? `${lines.join('\n')}\n` : '');
}

/** A table's lines, read line by line (a row's JSON never contains a raw newline). */
export async function readLines(file: string): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) if (line) lines.push(line);
  return lines;
}

export async function readManifest(dir: string): Promise<Manifest> {
  const text = await readFile(exportPaths(dir).manifest, 'utf8').catch(() => {
    throw new AppError(ErrorCode.BAD_USER_INPUT, `${dir} holds no manifest.json: not an Atelier export`, { field: 'dir' });
  });
  const manifest = JSON.parse(text) as Manifest;
  if (manifest.format !== 'atelier-export' || manifest.version !== 1) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, `${dir} is not an Atelier export of format version 1`, { field: 'dir' });
  }
  return manifest;
}

/** A table's lines, refused unless they match the manifest's count and checksum. */
export async function readVerifiedTable(dir: string, table: TableSummary): Promise<string[]> {
  const lines = await readLines(exportPaths(dir).table(table.name));
  if (lines.length !== table.rows || digestLines(lines) !== table.sha256) {
    throw refused(`tables/${table.name}.jsonl does not match the manifest (${lines.length} rows, expected ${table.rows}; checksum differs or not)`);
  }
  return lines;
}

/**
 * Where a stored file of the export lies, refused unless its size and SHA-256 match the manifest; it is hashed
 * as a stream, as export.ts and import.ts read the store (storage/stored-files.ts). Import uploads each file
 * with one PUT, so S3 refuses files over 5 GiB (docs/operations.md, "Moving an installation").
 */
export async function verifiedFile(dir: string, entry: FileEntry): Promise<string> {
  const file = exportPaths(dir).file(entry.key);
  const bytes = await stat(file).then((s) => (s.isFile() ? s.size : null), () => null);
  if (bytes !== entry.bytes || await sha256OfFile(file) !== entry.sha256) throw refused(`files/${entry.key} is missing or does not match the manifest`);
  return file;
}


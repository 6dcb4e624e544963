/** How a command prints: human-readable by default, one JSON document with `--json`. */
export interface Output {
  json: boolean;
  /** Whether stdout is a terminal (live progress bars) rather than a pipe or file (plain lines). */
  tty: boolean;
}

export function outputOf(options: { json?: boolean }): Output {
  return { json: Boolean(options.json), tty: Boolean(process.stdout.isTTY) };
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Left-aligned columns, widths from the longest cell; `empty` when there are no rows. */
export function printTable(headers: string[], rows: string[][], empty = '(none)'): void {
  if (!rows.length) {
    console.log(empty);
    return;
  }
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ');
  console.log(line(headers));
  for (const row of rows) console.log(line(row));
}

/** A prompt cut to fit a table cell. */
export const truncate = (text: string, max = 48): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** 2026-11-29T16:53:35.000Z → 2026-11-29 16:53 (UTC). */
export const shortTime = (iso: string | null | undefined): string => (iso ? iso.replace('T', ' ').slice(0, 16) : '-');

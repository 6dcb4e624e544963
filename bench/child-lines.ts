/**
 * The child's side of `startChild` (bench/harness.ts): each stdin line is a
 * request (JSON), answered by one stdout line, `handle`'s result or
 * `{ error }`. Kept apart from the harness, which loads the whole service.
 */
import { createInterface } from 'node:readline';

export function answerRequests<R>(handle: (request: R) => Promise<Record<string, unknown>>): void {
  createInterface({ input: process.stdin }).on('line', (line) => {
    handle(JSON.parse(line) as R).then(
      (answer) => process.stdout.write(`${JSON.stringify(answer)}\n`),
      (error: Error) => process.stdout.write(`${JSON.stringify({ error: error.message })}\n`),
    );
  });
}

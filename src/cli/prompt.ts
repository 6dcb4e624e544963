import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';

/** Asks one question on the terminal; with `secret`, what is typed is not echoed. */
export async function ask(question: string, secret = false): Promise<string> {
  let muted = false;
  // readline echoes through its output stream: a stream that drops writes while muted hides the password.
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: Boolean(process.stdin.isTTY) });
  try {
    const answer = rl.question(question);
    muted = secret;
    return (await answer).trim();
  } finally {
    rl.close();
    if (secret) process.stderr.write('\n');
  }
}

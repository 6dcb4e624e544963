import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { badCliInput } from './cli-error';

/**
 * Asks questions in order and reads one line for each. The lines come from one
 * readline interface's async iterator, which queues them: piped stdin delivers
 * every line at once, before the second question is asked. Answers to
 * `secret` questions are not echoed.
 */
export async function askAll(questions: { name: string; question: string; secret?: boolean }[]): Promise<Record<string, string>> {
  let muted = false;
  // readline echoes through its output stream: one that drops writes while muted hides a password.
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: Boolean(process.stdin.isTTY) });
  const lines = rl[Symbol.asyncIterator]();
  const answers: Record<string, string> = {};
  try {
    for (const { name, question, secret } of questions) {
      process.stderr.write(question);
      muted = Boolean(secret);
      const line = await lines.next();
      muted = false;
      if (secret) process.stderr.write('\n');
      if (line.done) throw badCliInput(name, `no ${name} given (stdin ended)`);
      answers[name] = String(line.value).trim();
    }
    return answers;
  } finally {
    rl.close();
  }
}

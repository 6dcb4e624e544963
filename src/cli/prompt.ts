import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { badCliInput, CancelledError } from './cli-error';

/**
 * Asks questions in order and reads one line for each. The lines come from one
 * readline interface's async iterator, which queues them: piped stdin delivers
 * every line at once, before the second question is asked. Answers to
 * `secret` questions are not echoed. Ctrl-C at a prompt on a terminal
 * (which readline reads as a key, not a signal) cancels: CancelledError.
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
  let interrupted = false;
  rl.on('SIGINT', () => {
    interrupted = true;
    rl.close();
  });
  const lines = rl[Symbol.asyncIterator]();
  const answers: Record<string, string> = {};
  try {
    for (const { name, question, secret } of questions) {
      process.stderr.write(question);
      muted = Boolean(secret);
      const line = await lines.next();
      muted = false;
      if (secret || interrupted) process.stderr.write('\n');
      if (interrupted) throw new CancelledError(`stopped at the ${name} prompt (Ctrl-C): nothing was stored`);
      if (line.done) throw badCliInput(name, `no ${name} given (stdin ended)`);
      answers[name] = String(line.value).trim();
    }
    return answers;
  } finally {
    rl.close();
  }
}

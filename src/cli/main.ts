#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config';
import { ErrorCode } from '../kernel/errors';
import { CancelledError, CliError, errnoReason } from './cli-error';
import { generateCommand, InterruptedError, JobFailedError } from './commands/generate';
import { jobsCommand } from './commands/jobs';
import { keysCommand } from './commands/keys';
import { loginCommand } from './commands/login';
import { mcpCommand } from './commands/mcp';
import { modelsCommand } from './commands/models';
import { operatorCommands } from './commands/operator';
import { transferCommands } from './commands/transfer';
import { trainCommand } from './commands/train';
import { watchCommand } from './commands/watch';
import { EXIT_CODES } from './exit-codes';
import { printJson } from './output';

/** Whether --json was given: read from argv too, since a usage mistake can stop parsing before options are set. */
function jsonWanted(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** The option or argument a commander message names (`--first <n>` → first, `--api-key` → apiKey), else null. */
function usageField(message: string): string | null {
  const named = /option '(?:-\w, )?--([\w-]+)|argument '([\w-]+)'|missing required argument '([\w-]+)'/.exec(message);
  const name = named?.[1] ?? named?.[3] ?? named?.[2];
  return name ? name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase()) : null;
}

/** The `atelier` command line (README, "Command line"). */
function program(json: boolean): Command {
  const root = new Command('atelier')
    .description('Atelier from the terminal: sign in, generate images, follow jobs and sessions, run the service')
    .option('--url <url>', 'server URL (default: ATELIER_URL, then the one `login` stored, then http://localhost:4000)')
    .option('--json', 'print JSON for scripts instead of text')
    .showHelpAfterError('(atelier --help lists the commands and options)')
    .exitOverride();
  // With --json the error is printed once, as JSON on stdout (report); set before the commands, which copy it.
  if (json) root.configureOutput({ outputError: () => undefined });
  for (const add of [loginCommand, generateCommand, jobsCommand, watchCommand, keysCommand, modelsCommand, trainCommand, mcpCommand, operatorCommands, transferCommands]) add(root);
  return root;
}

/**
 * A failure of this machine rather than of the CLI: a file or folder it was
 * given cannot be read or written (EISDIR, ENOTDIR, EACCES, ENOSPC, …).
 * Bad input naming the path, in one line.
 */
function localFailure(error: unknown): CliError | null {
  const { code, syscall, path } = (error ?? {}) as NodeJS.ErrnoException;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code) || typeof path !== 'string') return null;
  return new CliError(ErrorCode.BAD_USER_INPUT, `cannot ${syscall ?? 'use'} ${path}: ${errnoReason(code)} (${code})`);
}

/**
 * A real bug: its name and message in one line. The stack trace only with
 * ATELIER_DEBUG=1, for a bug report.
 */
function internalMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (process.env.ATELIER_DEBUG === '1' && error.stack) return error.stack;
  return `${error.name}: ${error.message.split('\n')[0]} (ATELIER_DEBUG=1 shows where)`;
}

/** Prints the error (as JSON on stdout with --json) and returns the exit status from the one table. */
function report(error: unknown, json: boolean): number {
  if (error instanceof CommanderError) {
    // Help and version exit 0; a usage mistake is bad input.
    if (error.exitCode === 0) return 0;
    if (json) printJson({ error: { code: ErrorCode.BAD_USER_INPUT, message: error.message.replace(/^error: /, ''), field: usageField(error.message) } });
    return EXIT_CODES[ErrorCode.BAD_USER_INPUT];
  }
  if (error instanceof CancelledError) {
    if (json) printJson({ error: { code: error.code, message: error.message, field: null } });
    else console.error(`atelier: ${error.code}: ${error.message}`);
    return error.exitCode;
  }
  if (error instanceof JobFailedError) {
    // A generate stopped after its job ended adds the files saved whole before the signal.
    const files = error instanceof InterruptedError && error.files ? { files: error.files } : {};
    if (json) printJson({ error: { code: error.code, message: error.message, field: null }, job: error.job, ...files });
    else console.error(`atelier: ${error instanceof InterruptedError ? `${error.code}: ` : ''}${error.message}`);
    return error.exitCode;
  }
  const cliError = error instanceof CliError ? error
    : error instanceof ConfigError ? new CliError(ErrorCode.BAD_USER_INPUT, error.message)
      : localFailure(error) ?? new CliError(ErrorCode.INTERNAL, internalMessage(error));
  if (json) printJson({ error: { code: cliError.code, message: cliError.message, field: cliError.field } });
  else console.error(`atelier: ${cliError.code}: ${cliError.message}${cliError.field ? ` (field: ${cliError.field})` : ''}`);
  return EXIT_CODES[cliError.code];
}

async function main(argv: string[]): Promise<void> {
  const json = jsonWanted(argv.slice(2));
  const root = program(json);
  try {
    await root.parseAsync(argv);
  } catch (error) {
    process.exitCode = report(error, json);
  }
}

void main(process.argv);

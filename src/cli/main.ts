#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config';
import { ErrorCode } from '../kernel/errors';
import { CliError } from './cli-error';
import { generateCommand, JobFailedError } from './commands/generate';
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

/** Prints the error (as JSON on stdout with --json) and returns the exit status from the one table. */
function report(error: unknown, json: boolean): number {
  if (error instanceof CommanderError) {
    // Help and version exit 0; a usage mistake is bad input.
    if (error.exitCode === 0) return 0;
    if (json) printJson({ error: { code: ErrorCode.BAD_USER_INPUT, message: error.message.replace(/^error: /, ''), field: usageField(error.message) } });
    return EXIT_CODES[ErrorCode.BAD_USER_INPUT];
  }
  if (error instanceof JobFailedError) {
    if (json) printJson({ error: { code: error.code, message: error.message, field: null }, job: error.job });
    else console.error(`atelier: ${error.message}`);
    return error.exitCode;
  }
  const cliError = error instanceof CliError ? error
    : error instanceof ConfigError ? new CliError(ErrorCode.BAD_USER_INPUT, error.message)
      : new CliError(ErrorCode.INTERNAL, (error as Error)?.stack ?? String(error));
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

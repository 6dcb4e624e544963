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

/** The `atelier` command line (README, "Command line"). */
function program(): Command {
  const root = new Command('atelier')
    .description('Atelier from the terminal: sign in, generate images, follow jobs and sessions, run the service')
    .option('--url <url>', 'server URL (default: ATELIER_URL, then the one `login` stored, then http://localhost:4000)')
    .option('--json', 'print JSON for scripts instead of text')
    .showHelpAfterError('(atelier --help lists the commands and options)')
    .exitOverride();
  for (const add of [loginCommand, generateCommand, jobsCommand, watchCommand, keysCommand, modelsCommand, trainCommand, mcpCommand, operatorCommands, transferCommands]) add(root);
  return root;
}

/** Prints the error (as JSON on stdout with --json) and returns the exit status from the one table. */
function report(error: unknown, json: boolean): number {
  if (error instanceof CommanderError) {
    // Help and version exit 0; a usage mistake is bad input.
    return error.exitCode === 0 ? 0 : EXIT_CODES[ErrorCode.BAD_USER_INPUT];
  }
  if (error instanceof JobFailedError) {
    if (json) printJson({ error: { code: error.job.error?.code ?? error.job.status, message: error.message }, job: error.job });
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
  const root = program();
  try {
    await root.parseAsync(argv);
  } catch (error) {
    process.exitCode = report(error, Boolean(root.opts().json));
  }
}

void main(process.argv);

import type { Command } from 'commander';
import type { GlobalOptions } from '../options';
import { outputOf } from '../output';

const ROLES: [string, string][] = [
  ['migrate', 'apply database migrations, then exit (once per release)'],
  ['seed', 'seed the reference data (tier policies, built-in presets), then exit'],
  ['api', 'run the GraphQL API (as many replicas as you like; needs DATABASE_URL)'],
  ['worker', 'run a generation worker (one per GPU or CPU pool; needs DATABASE_URL)'],
  ['all', 'run the API and a worker in one process (what `npm start` runs)'],
];

/**
 * The operator commands of `node dist/src/main.js <role>` (src/roles.ts),
 * configured by the environment as documented in the README. Loaded only when
 * one runs, so client commands never load the server, TypeORM or onnxruntime.
 */
export function operatorCommands(program: Command): void {
  for (const [name, description] of ROLES) {
    program.command(name).description(`operator: ${description}`).action(async (_options, command: Command) => {
      const { runOperatorCommand } = await import('../../roles.js');
      // `--json migrate` and `--json seed` print one JSON document (docs/operations.md).
      await runOperatorCommand(name, { json: outputOf(command.optsWithGlobals<GlobalOptions>()).json });
    });
  }
}

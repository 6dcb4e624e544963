import path from 'node:path';
import type { Command } from 'commander';
import { badCliInput } from '../cli-error';
import type { GlobalOptions } from '../options';
import { folderObstacle } from '../writable-folder';

/** An export goes into a new folder: one that cannot be made or written (a file in the way) is refused before the installation is opened. */
function checkExportTarget(dir: string): void {
  const obstacle = folderObstacle(dir);
  if (!obstacle) return;
  const where = obstacle.at === path.resolve(dir) ? dir : `${dir} cannot be made: ${obstacle.at}`;
  throw badCliInput('dir', `${where} is ${obstacle.why}; export into a new directory you can write to`);
}

/**
 * `atelier export <dir>` and `atelier import <dir>`: a whole installation
 * (database rows and stored files) between PGlite and PostgreSQL and between
 * storage backends, configured by the environment like the other operator
 * commands (docs/operations.md, "Moving an installation"). Loaded only when
 * one runs, like the roles.
 */
export function transferCommands(program: Command): void {
  program.command('export').argument('<dir>', 'a new, empty directory to write the export into')
    .description('operator: write this installation (DATABASE_URL or the embedded PGlite, and ATELIER_STORAGE) into a directory, with counts and checksums')
    .action(async (dir: string, _o, command: Command) => {
      checkExportTarget(dir);
      const { runTransfer } = await import('../transfer-run.js');
      await runTransfer('export', dir, command.optsWithGlobals<GlobalOptions>());
    });
  program.command('import').argument('<dir>', 'a directory written by `atelier export`')
    .description('operator: load an export into this (empty) installation; verifies counts and checksums, all or nothing')
    .action(async (dir: string, _o, command: Command) => {
      const { runTransfer } = await import('../transfer-run.js');
      await runTransfer('import', dir, command.optsWithGlobals<GlobalOptions>());
    });
}

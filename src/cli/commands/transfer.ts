import { statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { badCliInput } from '../cli-error';
import type { GlobalOptions } from '../options';

/** An export goes into a new folder: a file (or a file on the way to it) is refused before the installation is opened. */
function checkExportTarget(dir: string): void {
  for (let probe = path.resolve(dir); ; probe = path.dirname(probe)) {
    let info;
    try {
      info = statSync(probe);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || path.dirname(probe) === probe) return;
      continue;
    }
    if (!info.isDirectory()) {
      throw badCliInput('dir', `${probe === path.resolve(dir) ? dir : `${dir} cannot be made: ${probe}`} is not a folder; export into a new directory`);
    }
    return;
  }
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

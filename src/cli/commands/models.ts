import type { Command } from 'commander';
import { connect, request } from '../client';
import type { GlobalOptions } from '../options';
import { outputOf, printJson, printTable } from '../output';

interface Model { id: string; name: string; isDefault: boolean; usable: boolean; enabled: boolean; minTier: string; bytes: number; description: string | null }

const MODELS = 'query CliModels { models { id name isDefault usable enabled minTier bytes description } }';

const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

async function models(opts: GlobalOptions): Promise<void> {
  const { models: list } = await request<{ models: Model[] }>(connect(opts.url), MODELS);
  if (outputOf(opts).json) return printJson(list);
  printTable(['ID', 'NAME', 'DEFAULT', 'USABLE', 'MIN TIER', 'SIZE'], list.map((model) => [
    model.id, model.name, model.isDefault ? 'yes' : '', model.usable ? 'yes' : 'no', model.minTier, megabytes(model.bytes),
  ]), 'no models installed');
}

export function modelsCommand(program: Command): void {
  const command = program.command('models').description('installed models, the default first')
    .action(async (_o, cmd: Command) => models(cmd.optsWithGlobals<GlobalOptions>()));
  command.command('push <dir>')
    .description('operator: upload an ONNX model folder to the artifact store and register it, so workers without it fetch it (configured like `atelier worker`)')
    .option('--name <name>', 'model name (default: the folder name)')
    .action(async (dir: string, o: { name?: string }, cmd: Command) => {
      // Loaded only here: client commands never load TypeORM (src/cli/commands/operator.ts).
      const { pushModel } = await import('../../roles.js');
      const pushed = await pushModel(dir, o.name);
      if (outputOf(cmd.optsWithGlobals<GlobalOptions>()).json) return printJson(pushed);
      console.log(`pushed ${pushed.name}: ${pushed.files} files, ${megabytes(pushed.bytes)}, sha256 ${pushed.sha256}`);
    });
}

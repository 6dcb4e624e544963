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
  program.command('models').description('installed models, the default first')
    .action(async (_o, command: Command) => models(command.optsWithGlobals<GlobalOptions>()));
}

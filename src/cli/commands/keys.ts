import type { Command } from 'commander';
import { connect, request } from '../client';
import type { GlobalOptions } from '../options';
import { outputOf, printJson, printTable, shortTime } from '../output';

interface ApiKey { id: string; name: string; prefix: string; createdAt: string; lastUsedAt: string | null; revokedAt: string | null }

const KEY_FIELDS = 'id name prefix createdAt lastUsedAt revokedAt';
const CREATE = `mutation CliCreateKey($name: String!) { createApiKey(name: $name) { secret apiKey { ${KEY_FIELDS} } } }`;
const REVOKE = `mutation CliRevokeKey($id: ID!) { revokeApiKey(id: $id) { ${KEY_FIELDS} } }`;
const LIST = `query CliKeys { apiKeys { ${KEY_FIELDS} } }`;

const options = (command: Command): GlobalOptions => command.optsWithGlobals<GlobalOptions>();

async function create(name: string, opts: GlobalOptions): Promise<void> {
  const { createApiKey } = await request<{ createApiKey: { secret: string; apiKey: ApiKey } }>(connect(opts.url), CREATE, { name });
  if (outputOf(opts).json) return printJson(createApiKey);
  console.log(`created API key ${createApiKey.apiKey.id} (${name})`);
  console.log(`secret (shown once, store it now): ${createApiKey.secret}`);
}

async function revoke(id: string, opts: GlobalOptions): Promise<void> {
  const { revokeApiKey } = await request<{ revokeApiKey: ApiKey }>(connect(opts.url), REVOKE, { id });
  if (outputOf(opts).json) return printJson(revokeApiKey);
  console.log(`revoked API key ${revokeApiKey.id} (${revokeApiKey.name})`);
}

async function list(opts: GlobalOptions): Promise<void> {
  const { apiKeys } = await request<{ apiKeys: ApiKey[] }>(connect(opts.url), LIST);
  if (outputOf(opts).json) return printJson(apiKeys);
  printTable(['ID', 'NAME', 'PREFIX', 'CREATED', 'LAST USED', 'REVOKED'], apiKeys.map((key) => [
    key.id, key.name, key.prefix, shortTime(key.createdAt), shortTime(key.lastUsedAt), shortTime(key.revokedAt),
  ]), 'no API keys');
}

export function keysCommand(program: Command): void {
  const keys = program.command('keys').description('your API keys');
  keys.command('create').description('create an API key (its secret is shown once)').argument('<name>', 'label for the key')
    .action(async (name: string, _o, command: Command) => create(name, options(command)));
  keys.command('revoke').description('revoke an API key').argument('<id>', 'the key id (atelier keys list)')
    .action(async (id: string, _o, command: Command) => revoke(id, options(command)));
  keys.command('list').description('your API keys, newest first')
    .action(async (_o, command: Command) => list(options(command)));
}

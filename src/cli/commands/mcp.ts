import type { Command } from 'commander';
import { ErrorCode } from '../../kernel/errors';
import { badCliInput, CliError } from '../cli-error';
import { connect } from '../client';
import { readConfigIfSound } from '../config-file';
import type { GlobalOptions } from '../options';

/**
 * The MCP server's environment: `--url` as ATELIER_URL, and the API key
 * stored by `login --api-key` for that server when ATELIER_API_KEY is unset.
 */
function mcpEnv(options: GlobalOptions, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { config } = readConfigIfSound();
  // The server and the credential for it as every command picks them; a stored sign-in token does not serve here.
  const { url, credential } = connect(options.url, config, env);
  const apiKey = env.ATELIER_API_KEY?.trim() || (config.credential?.kind === 'apiKey' ? credential ?? undefined : undefined);
  if (!apiKey) {
    throw new CliError(ErrorCode.UNAUTHENTICATED, 'the MCP server needs an API key: set ATELIER_API_KEY or run `atelier login --api-key atl_…` (README, "MCP server")');
  }
  return { ...env, ATELIER_URL: url, ATELIER_API_KEY: apiKey };
}

/**
 * `atelier mcp`: the MCP server over stdio (src/mcp/server.ts, README "MCP
 * server"), for MCP clients that launch a command. It reads ATELIER_API_KEY
 * and ATELIER_URL (or `--url` and the API key `login` stored); stdout is the
 * protocol channel.
 */
export function mcpCommand(program: Command): void {
  program.command('mcp').description('serve the MCP tools over stdio (needs ATELIER_API_KEY or a stored API key; ATELIER_URL or --url)')
    .action(async (_options, command: Command) => {
      const env = mcpEnv(command.optsWithGlobals<GlobalOptions>(), process.env);
      // Loaded only for this command, like the operator roles.
      const { connectionFromEnv, runMcpServer } = await import('../../mcp/server.js');
      let connection;
      try {
        connection = connectionFromEnv(env);
      } catch (error) {
        throw badCliInput('url', (error as Error).message);
      }
      await runMcpServer(connection);
    });
}

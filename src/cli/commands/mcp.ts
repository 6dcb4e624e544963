import type { Command } from 'commander';

/**
 * `atelier mcp`: the MCP server over stdio (src/mcp/server.ts, README "MCP
 * server"), for MCP clients that launch a command. It reads ATELIER_API_KEY
 * and ATELIER_URL from the environment; stdout is the protocol channel.
 */
export function mcpCommand(program: Command): void {
  program.command('mcp').description('serve the MCP tools over stdio (needs ATELIER_API_KEY; ATELIER_URL)').action(async () => {
    // Loaded only for this command, like the operator roles.
    const { runMcpServer } = await import('../../mcp/server.js');
    await runMcpServer();
  });
}

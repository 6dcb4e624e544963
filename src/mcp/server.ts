import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { AtelierApi, type AtelierConnection } from './atelier-api';
import { registerTools } from './tools';

const DEFAULT_URL = 'http://localhost:4000';

/** Reads the connection from the environment: ATELIER_API_KEY (required) and ATELIER_URL. */
export function connectionFromEnv(env: NodeJS.ProcessEnv = process.env): AtelierConnection {
  const apiKey = env.ATELIER_API_KEY?.trim();
  if (!apiKey) throw new Error('ATELIER_API_KEY is not set: create a key with the createApiKey mutation (README, "MCP server")');
  const url = env.ATELIER_URL?.trim() || DEFAULT_URL;
  try {
    new URL(url);
  } catch {
    throw new Error(`ATELIER_URL is not a URL: ${url}`);
  }
  return { url, apiKey };
}

/** The MCP server with Atelier's tools, not yet connected to a transport. */
export function createMcpServer(api: AtelierApi): McpServer {
  const server = new McpServer({ name: 'atelier', version: '0.1.0' });
  registerTools(server, api);
  return server;
}

/**
 * Serves Atelier's tools over stdio (stdout carries the protocol, so nothing
 * else may write there) until the client closes the connection.
 */
export async function runMcpServer(connection: AtelierConnection = connectionFromEnv()): Promise<void> {
  const api = new AtelierApi(connection);
  const server = createMcpServer(api);
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = () => resolve();
  });
  // The SDK's stdio transport does not notice the client going away; stdin ending is that signal.
  process.stdin.once('end', () => void server.close());
  await server.connect(new StdioServerTransport());
  await closed;
  await api.close();
}

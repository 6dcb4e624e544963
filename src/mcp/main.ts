/** Entry of the MCP server over stdio: `node dist/src/mcp/main.js` (README, "MCP server"). */
import { runMcpServer } from './server';

runMcpServer().then(
  () => process.exit(0),
  (error: unknown) => {
    // stdout is the protocol channel; diagnostics go to stderr.
    process.stderr.write(`atelier mcp: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);

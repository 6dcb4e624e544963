import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ErrorCode } from '../kernel/errors';
import { AtelierApiError } from './atelier-api';

/** A tool's answer as JSON text (for the model) and as structured content (for programs). */
export function jsonResult(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value };
}

/**
 * A tool error carrying Atelier's GraphQL error code and field, so an MCP
 * client can act on them as an API client would (README, "MCP server").
 */
export function errorResult(error: unknown): CallToolResult {
  const apiError = error instanceof AtelierApiError
    ? error
    : new AtelierApiError(error instanceof Error ? error.message : String(error), ErrorCode.INTERNAL);
  const where = apiError.field ? ` (field: ${apiError.field})` : '';
  return {
    isError: true,
    content: [{ type: 'text', text: `${apiError.code}${where}: ${apiError.message}` }],
    structuredContent: { error: { code: apiError.code, field: apiError.field, message: apiError.message } },
  };
}

/** Runs a tool body and turns any failure into a tool error rather than a protocol error. */
export async function guarded(run: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await run();
  } catch (error) {
    return errorResult(error);
  }
}

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { AtelierApiError, type AtelierApi } from './atelier-api';
import { generateImage, generateImageInput } from './generate-image';
import { APPLY_PRESET, GET_JOB, LIST_FAVORITES, LIST_JOBS, RANDOM_PROMPTS, SUGGESTIONS } from './operations';
import { guarded, jsonResult } from './tool-results';

/**
 * Runs a call whose GraphQL arguments are named differently from the tool's
 * inputs (`names`: GraphQL name to tool name), so that an error's field, and
 * the name in its message, are the ones the caller passed.
 */
async function renamed<T>(names: Record<string, string>, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof AtelierApiError) || error.field === null || !Object.hasOwn(names, error.field)) throw error;
    const name = names[error.field];
    const message = error.message.replace(new RegExp(`\\b${error.field}\\b`, 'g'), name);
    throw new AtelierApiError(message, error.code, name, error);
  }
}

const pageSize = z.number().int().optional().describe('How many, 1..100 (default 20).');
const after = z.string().optional().describe('Cursor from the previous answer\'s pageInfo.endCursor.');

/** Registers Atelier's tools; each is one call of the public GraphQL API (README, "MCP server"). */
export function registerTools(server: McpServer, api: AtelierApi): void {
  server.registerTool('generate_image', {
    title: 'Generate an image',
    description: 'Generates an image from a prompt, reports progress while it runs, and returns the PNG and its signed URL.',
    inputSchema: generateImageInput,
  }, (args, extra) => guarded(() => generateImage(api, args, extra)));

  server.registerTool('get_job', {
    title: 'Get a job',
    description: 'A generation job you own (or one in a session you are in): status, progress, parameters, image URLs.',
    inputSchema: { id: z.string().describe('Job id.') },
  }, ({ id }) => guarded(async () => jsonResult(await api.request(GET_JOB, { id }))));

  server.registerTool('list_history', {
    title: 'List recent jobs',
    description: 'Your generation jobs (or a session\'s), newest first.',
    inputSchema: {
      first: pageSize,
      after,
      status: z.enum(['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED']).optional().describe('Only jobs in this status.'),
      sessionId: z.string().optional().describe('A session\'s jobs instead of your own.'),
    },
  }, (args) => guarded(async () => jsonResult(await api.request(LIST_JOBS, args))));

  server.registerTool('list_favorites', {
    title: 'List favourite images',
    description: 'Your favourite images, newest favourite first, with signed URLs.',
    inputSchema: { first: pageSize, after },
  }, (args) => guarded(async () => jsonResult(await api.request(LIST_FAVORITES, args))));

  server.registerTool('apply_preset', {
    title: 'Apply a preset',
    description: 'Shows what a preset does to a prompt on your tier: the parameters generate_image with this presetId would use. Nothing is stored.',
    inputSchema: { presetId: z.string().describe('Preset id.'), prompt: z.string().describe('Your prompt.') },
  }, ({ presetId, prompt }) => guarded(async () => jsonResult(await renamed({ id: 'presetId' }, () => api.request(APPLY_PRESET, { id: presetId, prompt })))));

  server.registerTool('suggest_prompts', {
    title: 'Suggest prompts',
    description: 'With a query: phrases completing what was typed (autocomplete). Without: random prompts composed of a subject, a style, a lighting and a quality term.',
    inputSchema: {
      query: z.string().optional().describe('What was typed so far.'),
      limit: z.number().int().optional().describe('How many (suggestions 1..50, random prompts 1..20).'),
    },
  }, ({ query, limit }) => guarded(async () => jsonResult(query === undefined
    ? await renamed({ count: 'limit' }, () => api.request(RANDOM_PROMPTS, { count: limit }))
    : await api.request(SUGGESTIONS, { query, limit }))));
}

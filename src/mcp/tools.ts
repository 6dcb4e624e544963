import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { ErrorCode } from '../kernel/errors';
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

/** The most a list tool returns in one call: the API's page limit (`jobs(first)`, `favorites(first)`). */
const MAX_FIRST = 100;
const pageSize = z.number().int().optional().describe(`How many, 1..${MAX_FIRST} (default 20).`);
const after = z.string().optional().describe('Cursor from the previous answer\'s pageInfo.endCursor.');

/**
 * Jobs list_history asks Atelier for per request. Each job, with its images
 * and clip, costs about 107 of a tier's query budget (src/schema/query-cost.ts),
 * and FREE's is 5,000: a page of 100 would be refused QUERY_TOO_COMPLEX, 25 fit
 * every tier as shipped.
 */
const JOBS_PER_REQUEST = 25;

/**
 * QUERY_TOO_COMPLEX names no argument (it is the whole query's cost); from a
 * list tool it names `first`, the one argument the caller can lower.
 */
async function namingFirst<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof AtelierApiError) || error.code !== ErrorCode.QUERY_TOO_COMPLEX || error.field !== null) throw error;
    throw new AtelierApiError(`${error.message} (ask for a smaller first)`, error.code, 'first', error);
  }
}

interface JobsPage {
  edges: { node: Record<string, unknown> }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}
type ListHistoryArgs = { first?: number; after?: string; status?: string; sessionId?: string };

/**
 * list_history: `first` jobs (1..100, as the API allows) as one page, asked
 * for JOBS_PER_REQUEST at a time so that any `first` in range fits the
 * caller's query budget; where an admin lowered the budget further, the
 * requests halve (down to one job each) before the refusal is passed on,
 * naming `first`. The answer is shaped as one request's `jobs` connection:
 * the edges in order, and the last request's pageInfo (its endCursor
 * continues after the last edge).
 */
async function listHistory(api: AtelierApi, args: ListHistoryArgs): Promise<Record<string, unknown>> {
  const { first, after: start, ...filter } = args;
  const wanted = first ?? 20;
  // Checked here with the API's words: asked as is, a page over 100 is costed as 100 and refused QUERY_TOO_COMPLEX first.
  if (!Number.isInteger(wanted) || wanted < 1 || wanted > MAX_FIRST) {
    throw new AtelierApiError(`first must be from 1 to ${MAX_FIRST}`, ErrorCode.BAD_USER_INPUT, 'first');
  }
  const edges: JobsPage['edges'] = [];
  let pageInfo: JobsPage['pageInfo'] = { hasNextPage: false, endCursor: start ?? null };
  let perRequest = JOBS_PER_REQUEST;
  while (edges.length < wanted) {
    const size = Math.min(perRequest, wanted - edges.length);
    let page: JobsPage;
    try {
      ({ jobs: page } = await api.request<{ jobs: JobsPage }>(LIST_JOBS, { ...filter, first: size, after: pageInfo.endCursor }));
    } catch (error) {
      if (error instanceof AtelierApiError && error.code === ErrorCode.QUERY_TOO_COMPLEX && size > 1) {
        perRequest = Math.ceil(size / 2);
        continue;
      }
      throw error;
    }
    edges.push(...page.edges);
    pageInfo = page.pageInfo;
    if (!pageInfo.hasNextPage || !pageInfo.endCursor) break;
  }
  return { jobs: { edges, pageInfo } };
}

/** Registers Atelier's tools; each calls the public GraphQL API (README, "MCP server"), list_history a page at a time. */
export function registerTools(server: McpServer, api: AtelierApi): void {
  server.registerTool('generate_image', {
    title: 'Generate an image',
    description: 'Generates an image from a prompt, reports progress while it runs, and returns the PNG and its signed URL. With a VIDEO preset it makes a video clip instead and returns its poster image and the MP4\'s signed URL.',
    inputSchema: generateImageInput,
  }, (args, extra) => guarded(() => generateImage(api, args, extra)));

  server.registerTool('get_job', {
    title: 'Get a job',
    description: 'A generation job you own (or one in a session you are in): status, progress, parameters, image URLs (a VIDEO job\'s clip in video). A job that does not exist or that you cannot see is a NOT_FOUND error; an id that is no UUID is BAD_USER_INPUT.',
    inputSchema: { id: z.string().describe('Job id (a UUID).') },
  }, ({ id }) => guarded(async () => {
    // The query reads null for a job that is not yours to see (existence is not revealed); an id that is no UUID
    // is its BAD_USER_INPUT on id (docs/errors.md, "Ids").
    const { job } = await api.request<{ job: Record<string, unknown> | null }>(GET_JOB, { id });
    if (!job) throw new AtelierApiError(`Job not found: no job ${id} that you can see`, ErrorCode.NOT_FOUND, 'id');
    return jsonResult({ job });
  }));

  server.registerTool('list_history', {
    title: 'List recent jobs',
    description: `Your generation jobs (or a session's), newest first: up to ${MAX_FIRST} per call, then continue with after.`,
    inputSchema: {
      first: pageSize,
      after,
      status: z.enum(['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED']).optional().describe('Only jobs in this status.'),
      sessionId: z.string().optional().describe('A session\'s jobs instead of your own.'),
    },
  }, (args) => guarded(async () => jsonResult(await namingFirst(() => listHistory(api, args)))));

  server.registerTool('list_favorites', {
    title: 'List favourite images',
    description: 'Your favourite images, newest favourite first, with signed URLs.',
    inputSchema: { first: pageSize, after },
  }, (args) => guarded(async () => jsonResult(await namingFirst(() => api.request(LIST_FAVORITES, args)))));

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

/**
 * Child process of bench/throughput and bench/worker: the users' programs,
 * in a process of their own so that their HTTP and graphql-ws work is not
 * done on the service's event loop. Requests and answers are JSON lines
 * (`startChild` in bench/harness.ts):
 *
 * - `{ url, tokens, request, seeds }`: job k (seed `seeds[k]`) is submitted
 *   by user k % tokens.length, all at once; each user watches its jobs over
 *   one graphql-ws connection, kept open between jobs as the SDK keeps it
 *   (`socketIdleMs`). With `reconnect: true` it is opened for each job and
 *   closed once the job ends instead (graphql-ws's default). Answers `{ ms }`,
 *   from the first submission to the last COMPLETED.
 */
import { answerRequests } from './child-lines';
import type { Client } from 'graphql-ws';
import { collect, wsClient } from '../test/support/graphql';
import { graphqlData, keepAliveAgent } from './http-client';
import { SOCKET_IDLE_MS } from '../sdk/src/transport';

const CREATE = 'mutation($i:GenerationInput!){ createGeneration(input:$i){ id } }';
const WATCH = 'subscription($id:ID!){ jobUpdated(jobId:$id){ type } }';
const agent = keepAliveAgent();
/** One graphql-ws client per server, user and way of connecting. */
const sockets = new Map<string, Client>();

interface Burst { url: string; tokens: string[]; request: Record<string, unknown>; seeds: number[]; reconnect?: boolean }

async function burst(plan: Burst): Promise<number> {
  const socket = (token: string) => {
    const key = `${plan.reconnect ? 'reconnect' : 'kept'} ${plan.url} ${token}`;
    if (!sockets.has(key)) sockets.set(key, wsClient(plan.url, token, { lazyCloseTimeout: plan.reconnect ? 0 : SOCKET_IDLE_MS }));
    return sockets.get(key)!;
  };
  const submit = async (token: string, seed: number) => {
    const { createGeneration } = await graphqlData<{ createGeneration: { id: string } }>(plan.url, token, CREATE, { i: { ...plan.request, seed } }, agent);
    const watched = collect<{ jobUpdated: { type: string } }>(socket(token), WATCH, { id: createGeneration.id });
    await watched.done;
    if (watched.errors.length) throw new Error(`job ${createGeneration.id}: ${JSON.stringify(watched.errors)}`);
  };
  const start = performance.now();
  await Promise.all(plan.seeds.map((seed, k) => submit(plan.tokens[k % plan.tokens.length], seed)));
  return performance.now() - start;
}

answerRequests(async (plan: Burst) => ({ ms: await burst(plan) }));

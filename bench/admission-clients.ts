/**
 * Child process of bench/admission: the HTTP clients of the createGeneration
 * phase, in their own process as integrators' programs would be, so that the
 * API process's CPU per call is the API's alone. Each stdin line is a plan
 * (JSON); each answer is one stdout line: the phase's milliseconds, or the
 * first error.
 */
import { answerRequests } from './child-lines';
import { keepAliveAgent, postGraphql } from './http-client';

interface Plan {
  url: string;
  token: string;
  query: string;
  variables: Record<string, unknown>;
  concurrency: number;
  n: number;
}

/** `ADMISSION_CLIENT=fetch` runs the clients the earlier rounds used (undici's `fetch`). */
const agent = keepAliveAgent();

function viaHttp(plan: Plan, body: string): Promise<string> {
  return postGraphql(plan.url, plan.token, body, agent);
}

async function viaFetch(plan: Plan, body: string): Promise<string> {
  const res = await fetch(`${plan.url}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${plan.token}` }, body,
  });
  return res.text();
}

const send = process.env.ADMISSION_CLIENT === 'fetch' ? viaFetch : viaHttp;

async function call(plan: Plan): Promise<void> {
  const answer = JSON.parse(await send(plan, JSON.stringify({ query: plan.query, variables: plan.variables }))) as { errors?: unknown[] };
  if (answer.errors?.length) throw new Error(`GraphQL error: ${JSON.stringify(answer.errors)}`);
}

/** `n` calls with `concurrency` in flight; resolves with the elapsed milliseconds. */
async function run(plan: Plan): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: plan.concurrency }, async () => {
    while (next < plan.n) {
      next += 1;
      await call(plan);
    }
  }));
  return performance.now() - start;
}

answerRequests(async (plan: Plan) => ({ ms: await run(plan) }));

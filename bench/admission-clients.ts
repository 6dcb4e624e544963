/**
 * Child process of bench/admission: the HTTP clients of the createGeneration
 * phase, in their own process as integrators' programs would be, so that the
 * API process's CPU per call is the API's alone. Each stdin line is a plan
 * (JSON); each answer is one stdout line: the phase's milliseconds, or the
 * first error.
 */
import { createInterface } from 'node:readline';

interface Plan {
  url: string;
  token: string;
  query: string;
  variables: Record<string, unknown>;
  concurrency: number;
  n: number;
}

async function call(plan: Plan): Promise<void> {
  const res = await fetch(`${plan.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${plan.token}` },
    body: JSON.stringify({ query: plan.query, variables: plan.variables }),
  });
  const body = (await res.json()) as { errors?: unknown[] };
  if (body.errors?.length) throw new Error(`GraphQL error: ${JSON.stringify(body.errors)}`);
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

createInterface({ input: process.stdin }).on('line', (line) => {
  run(JSON.parse(line) as Plan).then(
    (ms) => process.stdout.write(`${JSON.stringify({ ms })}\n`),
    (error: Error) => process.stdout.write(`${JSON.stringify({ error: error.message })}\n`),
  );
});

import path from 'node:path';
import type { DataSource } from 'typeorm';
import { FINAL_JOB_STATUSES, User, type Role, type Tier } from '../../src/entities';
import { describeLoraTargets, encodeLoraSafetensors, type LoraTargetWeights } from '../../src/gpu-worker/lora/writer';
import { readModelIndex } from '../../src/gpu-worker/pipeline/model-files';
import type { PrincipalStamps } from '../../src/services/principal-stamps';
import { gql, gqlData, signUp, waitFor } from './graphql';

/*
 * Factories with overrides: each builds one thing the way a client would
 * (through the API) and takes only what the test cares about.
 */

/** A registered account, as the factories and signUp return it. */
export interface TestUser { id: string; token: string; email: string }

/** Account settings a test may ask for; only an admin can set them through the API. */
export interface AccountOverrides { tier?: `${Tier}`; role?: `${Role}` }

/**
 * Registers a user through the API, then gives it the tier and role asked for
 * (FREE and EDITOR otherwise). `db` is the app's database: TestApp has it; a
 * test of spawned processes opens one with connectToDatabase.
 */
export async function user(
  app: { url: string; db: DataSource }, overrides: AccountOverrides & { email?: string; prefix?: string } = {},
): Promise<TestUser> {
  const created = await signUp(app.url, overrides.prefix, overrides.email);
  await setAccount(app.db, created.id, overrides); // nothing has read the new account yet: no stamp to bump
  return created;
}

/**
 * Changes an existing user's tier or role in SQL, then bumps the user's stamp
 * as setUserTier/setUserRole do, so cached copies of the user are dropped.
 */
export async function updateUser(
  app: { db: DataSource; services: { principalStamps: PrincipalStamps } }, id: string, changes: AccountOverrides,
): Promise<void> {
  if (await setAccount(app.db, id, changes)) await app.services.principalStamps.bump(id);
}

async function setAccount(db: DataSource, id: string, changes: AccountOverrides): Promise<boolean> {
  const values: Partial<Pick<User, 'tier' | 'role'>> = {};
  if (changes.tier) values.tier = changes.tier as Tier;
  if (changes.role) values.role = changes.role as Role;
  if (Object.keys(values).length === 0) return false;
  await db.getRepository(User).update({ id }, values);
  return true;
}

/** A job as the API reports it, with the request id the API answered the submission with. */
export interface TestJob {
  id: string;
  status: string;
  seed: number;
  queuePosition: number | null;
  error: { code: string; message: string } | null;
  images: { id: string }[];
  requestId: string | null;
}

const JOB_FIELDS = 'id status seed queuePosition error { code message } images { id }';
// Named: the metrics and log tests count operations by this name.
const CREATE_JOB = `mutation CreateGeneration($input: GenerationInput!) { createGeneration(input: $input) { ${JOB_FIELDS} } }`;
const JOB = `query WaitForJob($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`;

/** A small job the tiny model finishes in well under a second. */
const SMALL_JOB = { prompt: 'a small red fox', width: 64, height: 64, steps: 2 };

/**
 * Submits createGeneration as `owner` (a JWT or an API key as token), with
 * `input` over a small default job. `requestId` is sent as x-request-id;
 * `wait` polls until the job is COMPLETED, FAILED or CANCELLED.
 */
export async function job(
  app: { url: string }, owner: { token: string }, input: Record<string, unknown> = {},
  options: { requestId?: string; wait?: boolean } = {},
): Promise<TestJob> {
  const headers: Record<string, string> = options.requestId ? { 'x-request-id': options.requestId } : {};
  const res = await gql<{ createGeneration: Omit<TestJob, 'requestId'> }>(app.url, CREATE_JOB, { input: { ...SMALL_JOB, ...input } }, owner.token, headers);
  if (!res.data) throw new Error(`createGeneration failed: ${JSON.stringify(res.errors)}`);
  const requestId = res.headers.get('x-request-id');
  if (!options.wait) return { ...res.data.createGeneration, requestId };
  const done = await waitFor(async () => {
    const { job: current } = await gqlData<{ job: Omit<TestJob, 'requestId'> }>(app.url, JOB, { id: res.data!.createGeneration.id }, owner.token);
    return (FINAL_JOB_STATUSES as readonly string[]).includes(current.status) ? current : null;
  }, 60_000);
  return { ...done, requestId };
}

/**
 * The bytes of a valid LoRA for the tiny model in `app.config.modelsDir`:
 * every adaptable layer at `rank` (2 by default), small smooth weights.
 * `badShape` makes each layer's input size off by one, which registerLora refuses.
 */
export async function loraFile(
  app: { config: { modelsDir: string } }, overrides: { rank?: number; badShape?: boolean } = {},
): Promise<Buffer> {
  const rank = overrides.rank ?? 2;
  const index = await readModelIndex(path.join(app.config.modelsDir, 'atelier-tiny'));
  const targets: Record<string, LoraTargetWeights> = {};
  for (const t of describeLoraTargets({ loraTargets: index.atelier?.lora_layers ?? [] })) {
    const inFeatures = overrides.badShape ? t.inFeatures + 1 : t.inFeatures;
    targets[t.name] = {
      rank, alpha: rank,
      up: Float32Array.from({ length: t.outFeatures * rank }, (_, i) => Math.sin(i) * 0.05),
      down: Float32Array.from({ length: rank * inFeatures }, (_, i) => Math.cos(i) * 0.05),
    };
  }
  return encodeLoraSafetensors({ targets });
}

import type { DataSource } from 'typeorm';
import { buildAppSchema } from '../src/schema/build';
import { createLoaders, type Loaders } from '../src/resolvers/loaders';
import type { Viewer } from '../src/services/auth';
import { signUp } from '../test/support/graphql';
import { countStatements, executeAs, seedAlbum, seedImages, seedLora, seedPendingJobs, setStepCost } from '../test/support/library';
import { median, row, startBenchApp, time } from './harness';

const ALBUM_DEEP = `query($id:ID!){ album(id:$id){ name owner { id }
  images(first:200){ edges { node { id url width job { id prompt owner { id email } loras { weight lora { id name } } } } } } } }`;
const PAGE = '{ jobs(first: 50) { edges { node { id queuePosition etaSeconds } } } }';
const ROUNDS = 9;
const PER_ROUND = 5;

/**
 * The baseline: what field resolvers cost without DataLoader. Every load
 * gets a fresh loader, so each item issues its own query (no batching, no
 * per-request cache) through the very same resolvers.
 */
function naiveLoaders(db: DataSource): Loaders {
  const names = Object.keys(createLoaders(db)) as (keyof Loaders)[];
  return Object.fromEntries(names.map((name) => [name, {
    load: (key: unknown) => (createLoaders(db)[name] as { load: (k: unknown) => Promise<unknown> }).load(key),
  }])) as unknown as Loaders;
}

/** Album of 100 images with jobs, owners and LoRAs: queries per second with loaders ÷ naive per-item resolvers. */
export async function queryBench(): Promise<void> {
  console.log('\n== library queries (album of 100 images with jobs, owners, LoRAs; a page of waiting jobs; in-process execution) ==');
  const app = await startBenchApp({ ATELIER_ROLE: 'api' });
  try {
    const user = await signUp(app.url);
    const viewer = (await app.services.auth.authenticate(`Bearer ${user.token}`)) as Viewer;
    const schema = await buildAppSchema();
    const loras = await Promise.all([1, 2, 3].map((i) => seedLora(app.db, user.id, `bench-${i}`)));
    const images = [];
    for (let i = 0; i < 100; i += 1) {
      images.push(...await seedImages(app.db, user.id, 1, { loras: [{ loraId: loras[i % 3].id, weight: 0.5 }, { loraId: loras[(i + 1) % 3].id, weight: 1 }] }));
    }
    const id = await seedAlbum(app.db, user.id, images.map((x) => x.id));
    /** `query` with a request's loaders against one load per item: SQL statements of each, then q/s from interleaved rounds. */
    const compare = async (what: string, query: string, variables: Record<string, unknown>, label: string, goal?: string) => {
      const run = async (naive: boolean) => {
        const result = await executeAs(schema, app.services, viewer, query, variables, naive ? naiveLoaders(app.db) : createLoaders(app.db));
        if (result.errors) throw new Error(JSON.stringify(result.errors));
      };
      const batched = (await countStatements(app.db, () => run(false))).statements.length;
      const perItem = (await countStatements(app.db, () => run(true))).statements.length;
      console.log(`SQL statements per ${what}: with loaders ${batched}, one load per item ${perItem}`);
      // Interleaved rounds so both see the same machine load; throughput from the median round.
      const ours: number[] = [];
      const baseline: number[] = [];
      for (let r = 0; r < ROUNDS; r += 1) {
        ours.push(PER_ROUND / ((await time(async () => { for (let i = 0; i < PER_ROUND; i += 1) await run(false); }))[0] / 1000));
        baseline.push(PER_ROUND / ((await time(async () => { for (let i = 0; i < PER_ROUND; i += 1) await run(true); }))[0] / 1000));
      }
      row(label, median(ours), median(baseline), 'q/s', goal);
    };
    await compare('album query', ALBUM_DEEP, { id }, 'album query throughput: loaders ÷ naive per-item resolvers', '≥ 5');

    // A page of 50 waiting jobs with their places and ETAs, in a line of 2,000 other users' jobs.
    const other = await signUp(app.url);
    await seedPendingJobs(app.db, other.id, Array.from({ length: 2000 }, (_, i) => i % 7));
    await seedPendingJobs(app.db, user.id, Array.from({ length: 50 }, (_, i) => i % 7));
    await setStepCost(app.db, app.redis, app.config.redisPrefix, 100);
    await compare('page of 50 waiting jobs', PAGE, {}, 'jobs page (50 waiting, queuePosition + etaSeconds): loader ÷ per job');
  } finally {
    await app.stop();
    await app.teardown();
  }
}

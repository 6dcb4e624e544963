import type { GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAppSchema } from '../../src/schema/build';
import type { Viewer } from '../../src/services/auth';
import { signUp } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import { countStatements, executeAs, seedAlbum, seedImages, seedLora } from '../support/library';

let app: TestApp;
let schema: GraphQLSchema;
let viewer: Viewer;
let ownerId: string;

/** The album with its images, their jobs, the jobs' owners and LoRAs: the query the issue budgets at 5 statements. */
export const ALBUM_DEEP = `query($id:ID!,$first:Int){ album(id:$id){ name owner { id }
  images(first:$first){ edges { node { id url width job { id prompt owner { id email } loras { weight lora { id name } } } } } } } }`;

beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
  schema = await buildAppSchema();
  const user = await signUp(app.url);
  ownerId = user.id;
  viewer = (await app.services.auth.authenticate(`Bearer ${user.token}`)) as Viewer;
});
afterAll(() => app?.close());

async function albumOf(size: number): Promise<string> {
  const loras = await Promise.all([1, 2, 3].map((i) => seedLora(app.db, ownerId, `style-${size}-${i}`)));
  const images = [];
  for (let i = 0; i < size; i += 1) {
    images.push(...await seedImages(app.db, ownerId, 1, { loras: [{ loraId: loras[i % 3].id, weight: 0.5 }, { loraId: loras[(i + 1) % 3].id, weight: 1 }] }));
  }
  return seedAlbum(app.db, ownerId, images.map((i) => i.id));
}

describe('library queries through DataLoader', () => {
  it('an album of 100 images with jobs, owners and LoRAs costs at most 5 statements, the same as 10 images', async () => {
    const counts: Record<number, number> = {};
    for (const size of [10, 100]) {
      const id = await albumOf(size);
      const { result, statements } = await countStatements(app.db, () => executeAs(schema, app.services, viewer, ALBUM_DEEP, { id, first: 200 }));
      expect(result.errors).toBeUndefined();
      const edges = (result.data as any).album.images.edges;
      expect(edges).toHaveLength(size);
      expect(edges.every((e: any) => e.node.job.owner.id === ownerId && e.node.job.loras.length === 2 && e.node.job.loras[0].lora.name)).toBe(true);
      counts[size] = statements.length;
    }
    expect(counts[100]).toBeLessThanOrEqual(5);
    expect(counts[100]).toBe(counts[10]);
  });

  it('a grid of albums (cover, count, first images) costs the same for 2 albums as for 8', async () => {
    const grid = '{ albums(first:50){ edges { node { id imageCount viewerRole cover { id } images(first:4){ edges { node { id favorited } } } } } } }';
    const user = await signUp(app.url);
    const gridViewer = (await app.services.auth.authenticate(`Bearer ${user.token}`)) as Viewer;
    const counts: number[] = [];
    for (const albums of [2, 8]) {
      const have = counts.length ? 2 : 0;
      for (let i = have; i < albums; i += 1) {
        const imgs = await seedImages(app.db, user.id, 5, { perJob: 5 });
        await seedAlbum(app.db, user.id, imgs.map((x) => x.id));
      }
      const { result, statements } = await countStatements(app.db, () => executeAs(schema, app.services, gridViewer, grid));
      expect(result.errors).toBeUndefined();
      expect((result.data as any).albums.edges).toHaveLength(albums);
      expect((result.data as any).albums.edges.every((e: any) => e.node.imageCount === 5 && e.node.images.edges.length === 4)).toBe(true);
      counts.push(statements.length);
    }
    expect(counts[1]).toBe(counts[0]);
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, gqlData } from '../support/graphql';
import { startTestApp, type TestApp } from '../support/app';
import * as factory from '../support/factories';
import { seedAlbum, seedImages } from '../support/library';

// API only: every list reads rows the test writes; nothing needs to run.
let app: TestApp;
let owner: factory.TestUser;
let admin: factory.TestUser;
let albumId: string;
let otherAlbumId: string;
let batchId: string;

beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
  owner = await factory.user(app, { tier: 'PRO', prefix: 'cursor' });
  admin = await factory.user(app, { role: 'ADMIN', prefix: 'cursor-admin' });
  const images = await seedImages(app.db, owner.id, 3);
  albumId = await seedAlbum(app.db, owner.id, images.map((i) => i.id));
  otherAlbumId = await seedAlbum(app.db, owner.id, [images[0].id]);
  for (const image of images) await gqlData(app.url, 'mutation($i:ID!){ favoriteImage(imageId:$i){ id } }', { i: image.id }, owner.token);
  for (const name of ['one', 'two']) await gqlData(app.url, 'mutation($n:String!){ createDataset(input:{ name:$n }){ id } }', { n: name }, owner.token);
  const batch = 'mutation { createBatch(input:{ prompts:["a", "b"], steps:1, width:64, height:64 }){ id } }';
  batchId = (await gqlData<any>(app.url, batch, {}, owner.token)).createBatch.id;
  await gqlData(app.url, batch, {}, owner.token);
  // Training runs as rows: no run needs to train for its list to page.
  for (const name of ['run one', 'run two']) {
    await app.db.query(`INSERT INTO training_runs (id, owner_id, base_model_id, lora_name, status, config)
      VALUES ($1, $2, (SELECT id FROM models WHERE is_default), $3, 'FAILED', '{}')`, [randomUUID(), owner.id, name]);
  }
});
afterAll(() => app?.close());

const cursor = (text: string) => Buffer.from(text).toString('base64url');
const UUID = '2b7e1516-28ae-4d2a-abf7-158809cf4f3c';

/** Each keyset list, with the path to its connection in the answer. */
const KEYSET_LISTS: [string, string, (data: any) => any][] = [
  ['jobs', 'query($a:String){ jobs(first:1, after:$a){ edges { cursor } pageInfo { endCursor } } }', (d) => d.jobs],
  ['albums', 'query($a:String){ albums(first:1, after:$a){ edges { cursor } pageInfo { endCursor } } }', (d) => d.albums],
  ['batches', 'query($a:String){ batches(first:1, after:$a){ edges { cursor } pageInfo { endCursor } } }', (d) => d.batches],
  ['favorites', 'query($a:String){ favorites(first:1, after:$a){ edges { cursor } pageInfo { endCursor } } }', (d) => d.favorites],
  ['datasets', 'query($a:String){ datasets(first:1, after:$a){ edges { cursor } pageInfo { endCursor } } }', (d) => d.datasets],
  ['trainingRuns', 'query($a:String){ trainingRuns(first:1, after:$a){ edges { cursor } pageInfo { endCursor } } }', (d) => d.trainingRuns],
];

/** Every paginated list, asked for one item after `a`, by someone it has at least two items for. */
const EVERY_LIST: Record<string, { query: string; connection: (data: any) => any; token: () => string; variables: (v: { a?: string }) => Record<string, unknown> }> = {
  ...Object.fromEntries(KEYSET_LISTS.map(([name, query, connection]) => [name, { query, connection, token: () => owner.token, variables: (v: { a?: string }) => v }])),
  'Batch.jobs': {
    query: 'query($id:ID!,$a:String){ batch(id:$id){ jobs(first:1, after:$a){ edges { cursor } pageInfo { endCursor } } } }',
    connection: (d) => d.batch.jobs, token: () => owner.token, variables: (v) => ({ ...v, id: batchId }),
  },
  'Album.images': {
    query: 'query($id:ID!,$a:String){ album(id:$id){ images(first:1, after:$a){ edges { cursor } pageInfo { endCursor } } } }',
    connection: (d) => d.album.images, token: () => owner.token, variables: (v) => ({ ...v, id: albumId }),
  },
  auditEvents: {
    query: 'query($a:String){ auditEvents(first:1, after:$a){ edges { cursor } pageInfo { endCursor } } }',
    connection: (d) => d.auditEvents, token: () => admin.token, variables: (v) => v,
  },
};

/** Decode to a time and an id, but not ones PostgreSQL takes: each was an INTERNAL error once. */
const FORGED_KEYSET = [
  cursor('2026-01-01T00:00:00Z|not-uuid'),
  cursor(`2026-01-01T00:00:00Z|${'-'.repeat(36)}`),
  cursor(`+275760-09-13T00:00:00.000Z|${UUID}`),
  cursor(`-000001-01-01T00:00:00.000Z|${UUID}`),
  cursor(`2026-01-01T00:00:00.000Z|${UUID}|extra`),
  'bm9wZQ',
];

describe('pagination cursors', () => {
  it('a forged keyset cursor is BAD_USER_INPUT on after in every list, never a database error; real cursors still page', async () => {
    for (const [name, query, connection] of KEYSET_LISTS) {
      for (const after of FORGED_KEYSET) {
        const res = await gql(app.url, query, { a: after }, owner.token);
        expect(res.errors?.[0].extensions, `${name} ${after}`).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
        expect(res.errors?.[0].message).toBe('Invalid cursor');
      }
      const first = connection(await gqlData<any>(app.url, query, {}, owner.token));
      if (!first.pageInfo.endCursor) continue; // an empty list (batches, trainingRuns) has no cursor to follow
      const next = connection(await gqlData<any>(app.url, query, { a: first.pageInfo.endCursor }, owner.token));
      expect(next.edges.map((e: any) => e.cursor), name).not.toContain(first.pageInfo.endCursor);
    }
    const far = cursor(`9999-12-31T23:59:59.999Z|${UUID}`);
    expect((await gqlData<any>(app.url, KEYSET_LISTS[0][1], { a: far }, owner.token)).jobs.edges).toHaveLength(1);
  });

  it('rows created within one millisecond are each on a page once: a cursor keeps the time to the microsecond', async () => {
    // PostgreSQL keeps microseconds (a row's now()); a Date keeps milliseconds. Each list's rows 300 µs apart, three to a millisecond.
    const user = await factory.user(app, { tier: 'PRO', prefix: 'cursor-micro' });
    const images = await seedImages(app.db, user.id, 3);
    for (const image of images) await gqlData(app.url, 'mutation($i:ID!){ favoriteImage(imageId:$i){ id } }', { i: image.id }, user.token);
    for (let i = 0; i < 3; i += 1) {
      await seedAlbum(app.db, user.id, []);
      await gqlData(app.url, 'mutation($n:String!){ createDataset(input:{ name:$n }){ id } }', { n: `micro ${i}` }, user.token);
      await gqlData(app.url, 'mutation { createBatch(input:{ prompts:["a"], steps:1, width:64, height:64 }){ id } }', {}, user.token);
      await app.db.query(`INSERT INTO training_runs (id, owner_id, base_model_id, lora_name, status, config)
        VALUES ($1, $2, (SELECT id FROM models WHERE is_default), 'micro', 'FAILED', '{}')`, [randomUUID(), user.id]);
    }
    const sameMillisecond = (table: string, owner: string) => app.db.query(`UPDATE ${table} t SET created_at = '2026-03-01T12:00:00.000Z'::timestamptz + n.k * interval '300 microseconds'
      FROM (SELECT ctid, row_number() OVER () AS k FROM ${table} WHERE ${owner} = $1) n WHERE t.ctid = n.ctid`, [user.id]);
    for (const table of ['jobs', 'albums', 'datasets', 'batches', 'training_runs']) await sameMillisecond(table, 'owner_id');
    await sameMillisecond('favorites', 'user_id');

    const [inOnePage, pageByPage]: Record<string, string[]>[] = [{}, {}];
    for (const [name, query, connection] of KEYSET_LISTS) {
      const withIds = query.replace('edges { cursor }', 'edges { cursor node { id } }');
      const all = connection(await gqlData<any>(app.url, withIds.replace('first:1', 'first:20'), {}, user.token));
      expect(all.edges.length, name).toBeGreaterThanOrEqual(3);
      inOnePage[name] = all.edges.map((e: any) => e.node.id);
      pageByPage[name] = [];
      for (let after: string | null = null, page = 0; page <= all.edges.length; page += 1) {
        const one: any = connection(await gqlData<any>(app.url, withIds, { a: after }, user.token));
        pageByPage[name].push(...one.edges.map((e: any) => e.node.id));
        after = one.pageInfo.endCursor;
        if (!after) break;
      }
    }
    expect(pageByPage).toEqual(inOnePage);
  });

  it('a forged Album.images cursor (a loose id, a position no integer column holds) is BAD_USER_INPUT on after', async () => {
    const query = 'query($id:ID!,$a:String){ album(id:$id){ images(first:1, after:$a){ edges { position node { id } } pageInfo { endCursor } } } }';
    for (const after of [
      cursor(`0|${'-'.repeat(36)}`), cursor(`99999999999|${UUID}`), cursor(`2147483648|${UUID}`), cursor(`-1|${UUID}`),
      cursor(`1.5|${UUID}`), cursor(`|${UUID}`), cursor(`1|${UUID}|1`), 'bm9wZQ',
    ]) {
      const res = await gql(app.url, query, { id: albumId, a: after }, owner.token);
      expect(res.errors?.[0].extensions, after).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    }
    const first = (await gqlData<any>(app.url, query, { id: albumId }, owner.token)).album.images;
    const next = (await gqlData<any>(app.url, query, { id: albumId, a: first.pageInfo.endCursor }, owner.token)).album.images;
    expect(next.edges[0].position).toBeGreaterThan(first.edges[0].position);
    const last = (await gqlData<any>(app.url, query, { id: albumId, a: cursor(`2147483647|${UUID}`) }, owner.token)).album.images;
    expect(last.edges).toEqual([]);
    // Loaded in one batch with another album's page: only the page with the bad cursor fails.
    const both = await gql<any>(app.url, 'query($a:ID!,$b:ID!,$bad:String){ a: album(id:$a){ images(after:$bad){ edges { position } } } '
      + 'b: album(id:$b){ images(first:1){ edges { position } } } }', { a: albumId, b: otherAlbumId, bad: cursor(`0|${'-'.repeat(36)}`) }, owner.token);
    expect(both.errors?.map((e: any) => [e.path, e.extensions.code])).toEqual([[['a', 'images'], 'BAD_USER_INPUT']]);
    expect(both.data.b.images.edges).toHaveLength(1);
  });

  it('a real cursor from one list is BAD_USER_INPUT on after in every other list, and pages its own', async () => {
    const cursors = new Map<string, string>();
    for (const [name, list] of Object.entries(EVERY_LIST)) {
      const page = list.connection(await gqlData<any>(app.url, list.query, list.variables({}), list.token()));
      expect(page.pageInfo.endCursor, name).toBeTruthy();
      cursors.set(name, page.pageInfo.endCursor);
      const next = list.connection(await gqlData<any>(app.url, list.query, list.variables({ a: page.pageInfo.endCursor }), list.token()));
      expect(next.edges.map((e: any) => e.cursor), name).not.toContain(page.pageInfo.endCursor);
    }
    for (const [from, cursor] of cursors) {
      for (const [name, list] of Object.entries(EVERY_LIST)) {
        if (name === from) continue;
        const res = await gql(app.url, list.query, list.variables({ a: cursor }), list.token());
        expect(res.errors?.[0]?.extensions, `${from} cursor in ${name}`).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
        expect(res.errors?.[0]?.message).toBe('Invalid cursor: it is from another list');
      }
    }
  });

  it('a damaged cursor is refused; one handed out before cursors named their list still pages its list', async () => {
    for (const [name, list] of Object.entries(EVERY_LIST)) {
      const page = list.connection(await gqlData<any>(app.url, list.query, list.variables({}), list.token()));
      const text = Buffer.from(page.pageInfo.endCursor, 'base64url').toString();
      for (const damaged of [page.pageInfo.endCursor.slice(0, -6), cursor(`${text}|0`), cursor(text.replace(/^[^:]+:/, 'zzz:')), '%%%']) {
        const res = await gql(app.url, list.query, list.variables({ a: damaged }), list.token());
        expect(res.errors?.[0]?.extensions, `${name} ${damaged}`).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
      }
      const unnamed = cursor(text.replace(/^[^:]+:/, ''));
      const [expected, before] = await Promise.all([page.pageInfo.endCursor, unnamed].map(async (a) => list.connection(await gqlData<any>(app.url, list.query, list.variables({ a }), list.token()))));
      expect(before.edges.map((e: any) => e.cursor), name).toEqual(expected.edges.map((e: any) => e.cursor));
    }
  });

  it('an auditEvents cursor past the largest bigint is BAD_USER_INPUT on after', async () => {
    const query = 'query($a:String){ auditEvents(first:1, after:$a){ edges { node { id } } } }';
    const res = await gql(app.url, query, { a: cursor('audit:9999999999999999999') }, admin.token);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    const top = await gqlData<any>(app.url, query, { a: cursor('audit:9223372036854775807') }, admin.token);
    expect(top.auditEvents.edges).toHaveLength(1);
  });
});

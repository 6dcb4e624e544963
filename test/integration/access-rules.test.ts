import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Album, AlbumRole, AlbumShare, CollabSession, Job, Lora, LoraVisibility, Preset, PresetCategory, Role, SessionMember, SessionRole, User,
} from '../../src/entities';
import {
  albumAccessOf, albumListedWhere, albumRoleOf, AlbumAccessRole, jobControlledBy, jobVisibleTo, jobVisibleWhere,
  loraListedFor, loraListedWhere, presetVisibleTo, presetVisibleWhere,
} from '../../src/services/access-rules';
import { visibleImageIds } from '../../src/services/image-access';
import { startTestApp, type TestApp } from '../support/app';
import { seedImages, seedLora } from '../support/library';

// Each SQL rule (for lists) against its pure function (for single records and
// DataLoader-batched fields), on a matrix of viewers: owners, a session member
// of each role, album shares of each role, an outsider and an admin.

let app: TestApp;
const users: Record<string, User> = {};
const roles = new Map<string, SessionRole>(); // `${sessionId}:${userId}`
const shares = new Map<string, AlbumRole>(); // `${albumId}:${userId}`
let jobs: Job[] = [];
let imageJob = new Map<string, string>();
let albums: Album[] = [];
let presets: Preset[] = [];
let loras: Lora[] = [];

async function user(name: string, role = Role.EDITOR): Promise<User> {
  const repo = app.db.getRepository(User);
  return repo.save(repo.create({ email: `${name}-${randomUUID()}@example.com`, passwordHash: 'x', role }));
}

async function session(owner: User, members: [User, SessionRole][]): Promise<string> {
  const s = await app.db.getRepository(CollabSession).save(app.db.getRepository(CollabSession).create({ ownerId: owner.id, name: 'matrix' }));
  for (const [member, role] of [[owner, SessionRole.OWNER] as [User, SessionRole], ...members]) {
    await app.db.getRepository(SessionMember).insert({ sessionId: s.id, userId: member.id, role });
    roles.set(`${s.id}:${member.id}`, role);
  }
  return s.id;
}

async function album(owner: User, shared: [User, AlbumRole][]): Promise<Album> {
  const a = await app.db.getRepository(Album).save(app.db.getRepository(Album).create({ ownerId: owner.id, name: 'matrix', description: null, coverImageId: null }));
  for (const [member, role] of shared) {
    await app.db.getRepository(AlbumShare).insert({ albumId: a.id, userId: member.id, role });
    shares.set(`${a.id}:${member.id}`, role);
  }
  return a;
}

async function preset(owner: User | null, sessionId: string | null): Promise<Preset> {
  const repo = app.db.getRepository(Preset);
  return repo.save(repo.create({
    ownerId: owner?.id ?? null, sessionId, name: `matrix ${randomUUID()}`, category: PresetCategory.IMAGE, template: '{prompt}',
    builtIn: false, loras: [], usageCount: 0,
  }));
}

const roleIn = (sessionId: string | null, u: User) => (sessionId ? roles.get(`${sessionId}:${u.id}`) ?? null : null);
const shareOf = (a: Album, u: User) => shares.get(`${a.id}:${u.id}`) ?? null;
const ids = (rows: { id: string }[]) => new Set(rows.map((r) => r.id));

beforeAll(async () => {
  app = await startTestApp({ ATELIER_ROLE: 'api' });
  for (const name of ['owner', 'sessionOwner', 'collaborator', 'watcher', 'shareEditor', 'shareViewer', 'outsider']) users[name] = await user(name);
  users.admin = await user('admin', Role.ADMIN);
  const { owner, sessionOwner, collaborator, watcher, shareEditor, shareViewer, outsider } = users;

  const shared = await session(sessionOwner, [[owner, SessionRole.COLLABORATOR], [collaborator, SessionRole.COLLABORATOR], [watcher, SessionRole.WATCHER]]);
  const other = await session(outsider, []);
  const images = [
    ...await seedImages(app.db, owner.id, 1), // private job
    ...await seedImages(app.db, owner.id, 1, { sessionId: shared }), // job in a session the owner collaborates in
    ...await seedImages(app.db, sessionOwner.id, 1, { sessionId: shared }), // the session owner's job
    ...await seedImages(app.db, outsider.id, 1, { sessionId: other }), // someone else's session
  ];
  imageJob = new Map(images.map((i) => [i.id, i.jobId]));
  jobs = await app.db.getRepository(Job).findBy([...imageJob.values()].map((id) => ({ id })));

  albums = [
    await album(owner, [[shareEditor, AlbumRole.EDITOR], [shareViewer, AlbumRole.VIEWER]]),
    await album(owner, []),
    await album(outsider, [[shareViewer, AlbumRole.EDITOR]]),
  ];
  const builtIn = await app.db.getRepository(Preset).findOneByOrFail({ builtIn: true, name: 'Cinematic Portrait' });
  presets = [builtIn, await preset(owner, null), await preset(owner, shared), await preset(outsider, other), await preset(watcher, shared)];

  const active = await seedLora(app.db, owner.id, `active-${randomUUID()}`);
  const inactive = await seedLora(app.db, owner.id, `inactive-${randomUUID()}`);
  const othersInactive = await seedLora(app.db, outsider.id, `others-${randomUUID()}`);
  await app.db.getRepository(Lora).update([inactive.id, othersInactive.id], { active: false });
  const ownersPrivate = await seedLora(app.db, owner.id, `private-${randomUUID()}`, { visibility: LoraVisibility.PRIVATE });
  const othersPrivate = await seedLora(app.db, outsider.id, `others-private-${randomUUID()}`, { visibility: LoraVisibility.PRIVATE });
  loras = await app.db.getRepository(Lora).findBy([active, inactive, othersInactive, ownersPrivate, othersPrivate].map((l) => ({ id: l.id })));
});
afterAll(() => app?.close());

const viewers = () => Object.entries(users);

describe('jobs (and their images): jobVisibleTo and its SQL agree', () => {
  it.each(['owner', 'sessionOwner', 'collaborator', 'watcher', 'shareEditor', 'outsider', 'admin'])('viewer %s', async (name) => {
    const viewer = users[name];
    const pure = new Set(jobs.filter((j) => jobVisibleTo(j, viewer, roleIn(j.sessionId, viewer))).map((j) => j.id));
    const sql = await app.db.getRepository(Job).createQueryBuilder('j').select('j.id', 'id')
      .where('j.id IN (:...jobIds)', { jobIds: jobs.map((j) => j.id) }).andWhere(jobVisibleWhere('j', viewer)).getRawMany();
    expect(ids(sql)).toEqual(pure);
    const images = await visibleImageIds(app.db, viewer, [...imageJob.keys()]);
    expect(new Set([...images].map((id) => imageJob.get(id)))).toEqual(pure);
  });

  it('the matrix itself: members of any role see session jobs, outsiders nothing, admins everything', () => {
    const seen = (name: string) => jobs.filter((j) => jobVisibleTo(j, users[name], roleIn(j.sessionId, users[name]))).length;
    expect(Object.fromEntries(viewers().map(([name]) => [name, seen(name)]))).toEqual({
      owner: 3, sessionOwner: 2, collaborator: 2, watcher: 2, shareEditor: 0, shareViewer: 0, outsider: 1, admin: 4,
    });
    const sessionJob = jobs.find((j) => j.ownerId === users.owner.id && j.sessionId)!;
    const controllers = viewers().filter(([, u]) => jobControlledBy(sessionJob, u, roleIn(sessionJob.sessionId, u))).map(([name]) => name);
    expect(controllers).toEqual(['owner', 'sessionOwner', 'admin']);
  });
});

describe('albums: albumRoleOf and its SQL agree', () => {
  it.each(['owner', 'shareEditor', 'shareViewer', 'collaborator', 'outsider', 'admin'])('viewer %s', async (name) => {
    const viewer = users[name];
    const pure = new Set(albums.filter((a) => albumRoleOf(a, viewer.id, shareOf(a, viewer)) !== null).map((a) => a.id));
    const sql = await app.db.getRepository(Album).createQueryBuilder('a').select('a.id', 'id')
      .where('a.id IN (:...albumIds)', { albumIds: albums.map((a) => a.id) }).andWhere(albumListedWhere('a', viewer.id)).getRawMany();
    expect(ids(sql)).toEqual(pure);
    for (const a of albums) expect(await app.services.albums.roleOf(viewer, a)).toBe(albumAccessOf(a, viewer, shareOf(a, viewer)));
  });

  it('the matrix itself: owner, share roles, and admins as viewers of albums they do not list', () => {
    const [mine] = albums;
    expect(viewers().map(([name, u]) => [name, albumAccessOf(mine, u, shareOf(mine, u))])).toEqual([
      ['owner', AlbumAccessRole.OWNER], ['sessionOwner', null], ['collaborator', null], ['watcher', null],
      ['shareEditor', AlbumAccessRole.EDITOR], ['shareViewer', AlbumAccessRole.VIEWER], ['outsider', null], ['admin', AlbumAccessRole.VIEWER],
    ]);
    expect(albumRoleOf(mine, users.admin.id, null)).toBeNull();
  });
});

describe('presets: presetVisibleTo and its SQL agree', () => {
  it.each(['owner', 'sessionOwner', 'collaborator', 'watcher', 'outsider', 'admin'])('viewer %s', async (name) => {
    const viewer = users[name];
    const pure = new Set(presets.filter((p) => presetVisibleTo(p, viewer, roleIn(p.sessionId, viewer))).map((p) => p.id));
    const sql = await app.db.getRepository(Preset).createQueryBuilder('p').select('p.id', 'id')
      .where('p.id IN (:...presetIds)', { presetIds: presets.map((p) => p.id) }).andWhere(presetVisibleWhere('p', viewer)).getRawMany();
    expect(ids(sql)).toEqual(pure);
  });

  it('the matrix itself: built-ins for all, session presets for members, nothing extra for admins', () => {
    const seen = (name: string) => presets.filter((p) => presetVisibleTo(p, users[name], roleIn(p.sessionId, users[name]))).length;
    expect([seen('owner'), seen('watcher'), seen('outsider'), seen('admin')]).toEqual([4, 3, 2, 1]);
  });
});

describe('LoRAs: loraListedFor and its SQL agree', () => {
  it.each(['owner', 'outsider', 'collaborator', 'admin'])('viewer %s', async (name) => {
    const viewer = users[name];
    const pure = new Set(loras.filter((l) => loraListedFor(l, viewer)).map((l) => l.id));
    const sql = await app.db.getRepository(Lora).createQueryBuilder('l').select('l.id', 'id')
      .where('l.id IN (:...loraIds)', { loraIds: loras.map((l) => l.id) }).andWhere(loraListedWhere('l', viewer)).getRawMany();
    expect(ids(sql)).toEqual(pure);
    // Each sees the public active one and their own; admins every one.
    expect(pure.size).toBe({ owner: 3, outsider: 3, collaborator: 1, admin: 5 }[name]);
  });
});

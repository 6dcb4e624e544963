import { Brackets, type FindOptionsWhere } from 'typeorm';
import {
  AlbumRole, LoraVisibility, Role, SessionRole, TIER_RANK, type AiModel, type Album, type Job, type Lora, type Preset, type Tier, type User,
} from '../entities';

/*
 * Record-level access rules, each decided in one place: pure functions of the
 * record, the viewer and the viewer's relation to it (session role, album
 * share). Services (one record at a time, relation read from the database)
 * and field resolvers (relations batched through DataLoaders) both call them.
 * Where a list applies the same rule in SQL, the WHERE clause sits beside its
 * function, and test/integration/access-rules.test.ts checks that the two
 * agree on a matrix of viewers against a real database.
 */

/** Who is asking: enough of a user for the rules. */
export type Subject = Pick<User, 'id' | 'role'>;

const isAdmin = (user: Subject): boolean => user.role === Role.ADMIN;

/** Bound parameter name of the viewer's id in the SQL rules below. */
const VIEWER_ID = 'accessViewerId';

/** Whether a user's tier reaches a model's or LoRA's minimum tier. */
export function tierAllows(userTier: Tier, minTier: Tier): boolean {
  return TIER_RANK[userTier] >= TIER_RANK[minTier];
}

// ---- Users ------------------------------------------------------------------

/**
 * Whether `viewer` reads `user`'s email in full: their own, and admins every
 * one; anyone else who reaches the account (a session member, an album
 * sharee) gets it masked (docs/security.md, "Email addresses").
 */
export function emailShownTo(user: Pick<User, 'id'>, viewer: Subject | null): boolean {
  return viewer !== null && (viewer.id === user.id || isAdmin(viewer));
}

// ---- Sessions ---------------------------------------------------------------

/** Members see a session; admins see every session. */
export function sessionVisibleTo(user: Subject, role: SessionRole | null): boolean {
  return role !== null || isAdmin(user);
}

/** OWNER and COLLABORATOR add to a session (generate into it, share presets with it); WATCHER only watches. */
export function sessionRoleContributes(role: SessionRole | null): boolean {
  return role === SessionRole.OWNER || role === SessionRole.COLLABORATOR;
}

/** The session's owner and admins manage it (invites, members, archive). */
export function sessionManagedBy(user: Subject, role: SessionRole | null): boolean {
  return role === SessionRole.OWNER || isAdmin(user);
}

/**
 * Decides a rule about a record that may belong to a session, looking the
 * viewer's role in that session up only when the rule does not already allow
 * without one (no rule here allows less with a role than without).
 */
export async function allowedWithSessionRole<T extends { sessionId: string | null }>(
  rule: (record: T, user: Subject, role: SessionRole | null) => boolean,
  record: T,
  user: Subject,
  lookupRole: (sessionId: string) => Promise<SessionRole | null>,
): Promise<boolean> {
  if (rule(record, user, null)) return true;
  return record.sessionId !== null && rule(record, user, await lookupRole(record.sessionId));
}

// ---- Jobs (and the images they made) ----------------------------------------

type JobAccess = Pick<Job, 'ownerId' | 'sessionId'>;

/** The owner, admins and any member of the job's session (`sessionRole`: the viewer's role there). */
export function jobVisibleTo(job: JobAccess, user: Subject, sessionRole: SessionRole | null): boolean {
  return job.ownerId === user.id || isAdmin(user) || (job.sessionId !== null && sessionRole !== null);
}

/** The owner, admins and the session's owner may cancel or retry a job. */
export function jobControlledBy(job: JobAccess, user: Subject, sessionRole: SessionRole | null): boolean {
  return job.ownerId === user.id || isAdmin(user) || (job.sessionId !== null && sessionRole === SessionRole.OWNER);
}

/** {@link jobVisibleTo} in SQL, for the `jobs` row aliased `alias`. */
export function jobVisibleWhere(alias: string, user: Subject): Brackets {
  return new Brackets((w) => {
    if (isAdmin(user)) {
      w.where('TRUE');
    } else {
      w.where(`${alias}.owner_id = :${VIEWER_ID}`, { [VIEWER_ID]: user.id })
        .orWhere(`${alias}.session_id IN (SELECT m.session_id FROM session_members m WHERE m.user_id = :${VIEWER_ID})`);
    }
  });
}

// ---- Albums -----------------------------------------------------------------

/** What the viewer may do with an album. Admins who are neither owner nor member read as VIEWER. */
export enum AlbumAccessRole { OWNER = 'OWNER', EDITOR = 'EDITOR', VIEWER = 'VIEWER' }

/** The user's role on an album through owning it or a share (`share`: their share's role); null when neither. */
export function albumRoleOf(album: Pick<Album, 'ownerId'>, userId: string, share: AlbumRole | null): AlbumAccessRole | null {
  if (album.ownerId === userId) return AlbumAccessRole.OWNER;
  if (share === null) return null;
  return share === AlbumRole.EDITOR ? AlbumAccessRole.EDITOR : AlbumAccessRole.VIEWER;
}

/** {@link albumRoleOf}, and VIEWER for admins without one (moderation); null: the album is hidden from them. */
export function albumAccessOf(album: Pick<Album, 'ownerId'>, user: Subject, share: AlbumRole | null): AlbumAccessRole | null {
  return albumRoleOf(album, user.id, share) ?? (isAdmin(user) ? AlbumAccessRole.VIEWER : null);
}

/** {@link albumRoleOf}, looking the share up only when the user does not own the album. */
export async function albumRoleWith(
  album: Pick<Album, 'ownerId'>, userId: string, lookupShare: () => Promise<AlbumRole | null>,
): Promise<AlbumAccessRole | null> {
  return albumRoleOf(album, userId, null) ?? albumRoleOf(album, userId, await lookupShare());
}

/** {@link albumAccessOf}, looking the share up only when the user does not own the album. */
export async function albumAccessWith(
  album: Pick<Album, 'ownerId'>, user: Subject, lookupShare: () => Promise<AlbumRole | null>,
): Promise<AlbumAccessRole | null> {
  return albumRoleOf(album, user.id, null) ?? albumAccessOf(album, user, await lookupShare());
}

/** What a caller wants to do with an album: look, change its contents, or what is the owner's (sharing, links, deleting). */
export type AlbumNeed = 'view' | 'edit' | 'own';

/** Whether an album role permits `need`; admins may also do the owner's part (moderation). */
export function albumRoleAllows(role: AlbumAccessRole | null, need: AlbumNeed, user: Subject): boolean {
  if (role === null) return false;
  if (need === 'edit') return role !== AlbumAccessRole.VIEWER;
  if (need === 'own') return role === AlbumAccessRole.OWNER || isAdmin(user);
  return true;
}

/** The albums a user lists as theirs: `albumRoleOf(...) !== null` in SQL, for the `albums` row aliased `alias`. */
export function albumListedWhere(alias: string, userId: string): Brackets {
  return new Brackets((w) => {
    w.where(`${alias}.owner_id = :${VIEWER_ID}`, { [VIEWER_ID]: userId })
      .orWhere(`${alias}.id IN (SELECT s.album_id FROM album_shares s WHERE s.user_id = :${VIEWER_ID})`);
  });
}

// ---- Presets ----------------------------------------------------------------

type PresetAccess = Pick<Preset, 'builtIn' | 'ownerId' | 'sessionId'>;

/** Built-ins for everyone; a custom preset for its owner and the members of the session it is shared with. */
export function presetVisibleTo(preset: PresetAccess, user: Subject, sessionRole: SessionRole | null): boolean {
  return preset.builtIn || preset.ownerId === user.id || (preset.sessionId !== null && sessionRole !== null);
}

/** {@link presetVisibleTo} in SQL, for the `presets` row aliased `alias`. */
export function presetVisibleWhere(alias: string, user: Subject): Brackets {
  return new Brackets((w) => {
    w.where(`${alias}.built_in = true`)
      .orWhere(`${alias}.owner_id = :${VIEWER_ID}`, { [VIEWER_ID]: user.id })
      .orWhere(`${alias}.session_id IN (SELECT m.session_id FROM session_members m WHERE m.user_id = :${VIEWER_ID})`);
  });
}

/** A custom preset the user made (built-ins are nobody's). */
export function presetIsMine(preset: Pick<Preset, 'builtIn' | 'ownerId'>, userId: string | undefined): boolean {
  return !preset.builtIn && preset.ownerId === userId;
}

// ---- LoRAs and models -------------------------------------------------------

/** The owner and admins manage a record (a preset's or LoRA's settings). */
export function managedBy(record: { ownerId: string | null }, user: Subject): boolean {
  return record.ownerId === user.id || isAdmin(user);
}

type LoraAccess = Pick<Lora, 'active' | 'ownerId' | 'visibility'>;

/**
 * Whether `viewer` may know a LoRA exists at all: a PUBLIC one everyone, a
 * PRIVATE one its owner and admins. Anyone else is answered as for an id that
 * does not exist (docs/security.md, "Private LoRAs").
 */
export function loraVisibleTo(lora: Pick<Lora, 'ownerId' | 'visibility'>, viewer: Subject | null): boolean {
  return lora.visibility === LoraVisibility.PUBLIC || (viewer !== null && managedBy(lora, viewer));
}

/**
 * What `loras` lists: its owner's and admins' every LoRA; to anyone else
 * (nobody signed in too), PUBLIC and active ones. `JobLora.lora` names the
 * same, null for the rest, as for a deleted LoRA (docs/security.md, "Private LoRAs").
 */
export function loraListedFor(lora: LoraAccess, user: Subject | null): boolean {
  return (user !== null && managedBy(lora, user)) || (lora.active && lora.visibility === LoraVisibility.PUBLIC);
}

/** {@link loraListedFor} in SQL, for the `loras` row aliased `alias`. */
export function loraListedWhere(alias: string, user: Subject): Brackets {
  return new Brackets((w) => {
    if (isAdmin(user)) {
      w.where('TRUE');
    } else {
      w.where(`(${alias}.active = true AND ${alias}.visibility = '${LoraVisibility.PUBLIC}')`)
        .orWhere(`${alias}.owner_id = :${VIEWER_ID}`, { [VIEWER_ID]: user.id });
    }
  });
}

/**
 * Whether `viewer` reads what a trained LoRA's `metrics` tell of the data it was trained on (the run's
 * sample prompts, seed and dataset hash): who sees its training run, its owner and admins. Anyone else a
 * PUBLIC one is listed to reads the rest, as a model card shows it (docs/security.md, "Private LoRAs").
 */
export function loraTrainingDataShownTo(lora: Pick<Lora, 'ownerId'>, viewer: Subject | null): boolean {
  return viewer !== null && trainingRunVisibleTo(lora, viewer);
}

/** Whether a LoRA's visibility lets `user` apply it: PUBLIC anyone, PRIVATE only its owner (an admin sees it, but does not generate with someone's private work). */
export function loraOpenTo(lora: Pick<Lora, 'ownerId' | 'visibility'>, user: Pick<User, 'id'>): boolean {
  return lora.visibility === LoraVisibility.PUBLIC || lora.ownerId === user.id;
}

/** A LoRA a job of `user`'s may apply: open to them, active and within their tier. */
export function loraUsableBy(lora: LoraAccess & Pick<Lora, 'minTier'>, user: Pick<User, 'id' | 'tier'>): boolean {
  return loraOpenTo(lora, user) && lora.active && tierAllows(user.tier, lora.minTier);
}

/**
 * What a job's output calls a LoRA it applied, where everyone who sees the job
 * reads it (its images' PNG metadata, a failed job's error): the name of a
 * PUBLIC one; a PRIVATE one by its id, all that a session member, an album
 * sharee or a link's visitor is shown of it anyway (docs/security.md, "Private
 * LoRAs"). Decided when the job runs: an image keeps what it was made with.
 */
export function loraLabelInOutput(lora: Pick<Lora, 'id' | 'name' | 'visibility'>): string {
  return lora.visibility === LoraVisibility.PUBLIC ? lora.name : lora.id;
}

/** Enabled models for everyone; disabled ones only for admins. */
export function modelListedFor(model: Pick<AiModel, 'enabled'>, user: Subject): boolean {
  return model.enabled || isAdmin(user);
}

/** {@link modelListedFor} as a TypeORM condition. */
export function modelListedWhere(user: Subject): FindOptionsWhere<AiModel> {
  return isAdmin(user) ? {} : { enabled: true };
}

/** A model a job may use: enabled and within the user's tier. */
export function modelUsableBy(model: Pick<AiModel, 'enabled' | 'minTier'>, userTier: Tier): boolean {
  return model.enabled && tierAllows(userTier, model.minTier);
}

// ---- Training datasets and runs ---------------------------------------------

type DatasetAccess = { ownerId: string; sessionId: string | null };

/** A dataset for its owner, admins, and the members of the session it is shared with (to see and train on). */
export function datasetVisibleTo(dataset: DatasetAccess, user: Subject, sessionRole: SessionRole | null): boolean {
  return dataset.ownerId === user.id || isAdmin(user) || (dataset.sessionId !== null && sessionRole !== null);
}

/** {@link datasetVisibleTo} in SQL, for the `datasets` row aliased `alias`. */
export function datasetVisibleWhere(alias: string, user: Subject): Brackets {
  return new Brackets((w) => {
    if (isAdmin(user)) return void w.where('TRUE');
    w.where(`${alias}.owner_id = :${VIEWER_ID}`, { [VIEWER_ID]: user.id })
      .orWhere(`${alias}.session_id IN (SELECT m.session_id FROM session_members m WHERE m.user_id = :${VIEWER_ID})`);
  });
}

/** A training run for its owner and admins. */
export function trainingRunVisibleTo(run: { ownerId: string }, user: Subject): boolean {
  return run.ownerId === user.id || isAdmin(user);
}

/** {@link trainingRunVisibleTo} in SQL, for the `training_runs` row aliased `alias`. */
export function trainingRunVisibleWhere(alias: string, user: Subject): Brackets {
  return new Brackets((w) => {
    if (isAdmin(user)) return void w.where('TRUE');
    w.where(`${alias}.owner_id = :${VIEWER_ID}`, { [VIEWER_ID]: user.id });
  });
}

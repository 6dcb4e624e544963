import { DataSource } from 'typeorm';
import { Image, Job, type User } from '../entities';
import { badInput } from '../kernel/errors';
import { jobVisibleWhere } from './access-rules';
import { assertUuid } from '../kernel/ids';

/** Checks a list of image ids from a request: 1..max UUIDs, duplicates dropped. */
export function assertImageIds(field: string, ids: readonly string[], max = 500): string[] {
  if (!Array.isArray(ids) || ids.length < 1) throw badInput(field, `${field} must name at least one image`);
  if (ids.length > max) throw badInput(field, `${field} may name at most ${max} images`);
  return [...new Set(ids.map((id, i) => assertUuid(`${field}[${i}]`, id)))];
}

/**
 * The ids among `ids` of images `user` may see: those whose job they may see
 * (jobVisibleTo: their own, those in sessions they belong to, any for admins),
 * in one query.
 */
export async function visibleImageIds(db: DataSource, user: User, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const qb = db.getRepository(Image).createQueryBuilder('i')
    .innerJoin(Job, 'j', 'j.id = i.job_id')
    .select('i.id', 'id')
    .where('i.id IN (:...ids)', { ids: [...ids] })
    .andWhere(jobVisibleWhere('j', user));
  const rows: { id: string }[] = await qb.getRawMany();
  return new Set(rows.map((r) => r.id));
}

/** All of `ids` visible to `user`, else BAD_USER_INPUT naming the first that is not (existence is not leaked). */
export async function assertImagesVisible(db: DataSource, user: User, field: string, ids: string[]): Promise<void> {
  const visible = await visibleImageIds(db, user, ids);
  const missing = ids.findIndex((id) => !visible.has(id));
  if (missing >= 0) throw badInput(field, `Image ${ids[missing]} not found`);
}

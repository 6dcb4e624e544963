import type { DataSource, EntityManager } from 'typeorm';
import { AiModel } from '../entities';

/**
 * The model whose name is `name` in any case, or null. Names are unique
 * regardless of case (the index on `lower(name)`, migration
 * ModelNamesIgnoreCase): "Comfy A" finds "comfy a", and a new name must find
 * nothing here before it is stored.
 */
export function findModelNamed(db: DataSource | EntityManager, name: string): Promise<AiModel | null> {
  return db.getRepository(AiModel).createQueryBuilder('model').where('lower(model.name) = lower(:name)', { name }).getOne();
}

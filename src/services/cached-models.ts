import type { DataSource } from 'typeorm';
import { AiModel } from '../entities';
import { EntityLookup } from '../database/entity-lookup';
import { SharedReads } from './shared-reads';

/**
 * How long a model row may serve submissions on this replica. Changes made
 * through ModelService drop this process's copies at once; the other
 * replicas see them within this time, as with tier policies.
 */
export const MODEL_CACHE_TTL_MS = 1000;

/** The model a submission names (or the default), read once a second per process (docs/architecture.md, "The request path"). */
export class CachedModels {
  private readonly lookup: EntityLookup<AiModel>;
  private readonly reads = new SharedReads<AiModel>({ max: 1000, ttlMs: MODEL_CACHE_TTL_MS });

  constructor(db: DataSource) {
    this.lookup = new EntityLookup(db, AiModel);
  }

  byId(id: string): Promise<AiModel | null> {
    return this.reads.get(`id:${id}`, () => this.lookup.findOneBy({ id }));
  }

  /** The enabled default model. */
  theDefault(): Promise<AiModel | null> {
    return this.reads.get('default', () => this.lookup.findOneBy({ isDefault: true, enabled: true }));
  }

  /** After any change to the models table from this process. */
  forgetAll(): void {
    this.reads.forgetAll();
  }
}

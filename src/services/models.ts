import { DataSource } from 'typeorm';
import { AiModel, type Tier, type User } from '../entities';
import { badInput, notFound } from '../kernel/errors';
import { modelListedWhere } from './access-rules';
import { assertUuid } from '../kernel/ids';

/**
 * The model registry as users see it (rows mirrored from the models folder at
 * start), and the admin switches: enable/disable, default, minimum tier.
 */
export class ModelService {
  constructor(private readonly db: DataSource) {}

  /** Enabled models, the default first; admins also see disabled ones. */
  list(user: User): Promise<AiModel[]> {
    return this.db.getRepository(AiModel).find({
      where: modelListedWhere(user),
      order: { isDefault: 'DESC', name: 'ASC' },
    });
  }

  private async get(id: string): Promise<AiModel> {
    const model = await this.db.getRepository(AiModel).findOneBy({ id: assertUuid('id', id) });
    if (!model) throw notFound('Model');
    return model;
  }

  /** Disabled models refuse new jobs; the default must be moved elsewhere before it can be disabled. */
  async setEnabled(id: string, enabled: boolean): Promise<AiModel> {
    const model = await this.get(id);
    if (!enabled && model.isDefault) throw badInput('id', `Model ${model.name} is the default; choose another default first`);
    await this.db.getRepository(AiModel).update({ id: model.id }, { enabled });
    return { ...model, enabled } as AiModel;
  }

  /** Makes an enabled model the one jobs without `modelId` use. */
  async setDefault(id: string): Promise<AiModel> {
    const model = await this.get(id);
    if (!model.enabled) throw badInput('id', `Model ${model.name} is disabled; enable it first`);
    await this.db.transaction(async (m) => {
      await m.update(AiModel, { isDefault: true }, { isDefault: false });
      await m.update(AiModel, { id: model.id }, { isDefault: true });
    });
    return { ...model, isDefault: true } as AiModel;
  }

  /** The lowest tier allowed to use the model. */
  async setMinTier(id: string, minTier: Tier): Promise<AiModel> {
    const model = await this.get(id);
    await this.db.getRepository(AiModel).update({ id: model.id }, { minTier });
    return { ...model, minTier } as AiModel;
  }
}

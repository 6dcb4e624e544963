import { DataSource, type QueryDeepPartialEntity } from 'typeorm';
import { AiModel, InferenceBackend, type Tier, type User } from '../entities';
import type { EndpointHealth } from '../kernel/backends';
import { sealCredential } from '../kernel/credentials';
import { badInput, notFound } from '../kernel/errors';
import type { EndpointHealthStore } from '../redis/endpoint-health';
import type { ArtifactStore } from '../storage/artifact-store';
import { modelListedWhere } from './access-rules';
import { assertUuid } from '../kernel/ids';
import { checkModelInput, onnxFolderOf, type CheckedModelInput, type ModelInputValues } from './model-input';
import type { CachedModels } from './cached-models';
import { locateOnnxModel, NO_FILES, type OnnxFiles } from './model-files';
import { findModelNamed } from '../database/model-names';

/** What registering models needs beyond the database. */
export interface ModelRegistrationDeps {
  /** Where ONNX model folders live. */
  modelsDir: string;
  /** ONNX models may also live here, for workers on other machines. */
  store: ArtifactStore;
  /** Seals backend credentials (kernel/credentials.ts). */
  credentialKey: Buffer;
  /** What workers report about each endpoint's breaker. */
  health: EndpointHealthStore;
  /** Submissions' copies of the models, dropped after every change made here. */
  cache: CachedModels;
}

/** One endpoint of a model's pool with its health; `health` is null until a worker has reported on it (within a minute). */
export interface ModelEndpointHealth {
  url: string;
  health: EndpointHealth | null;
}

const isUniqueViolation = (error: unknown): boolean => (error as { code?: string; driverError?: { code?: string } }).code === '23505'
  || (error as { driverError?: { code?: string } }).driverError?.code === '23505';

/** `taken` is the stored model's name, which may differ from the one asked for in case only. */
const duplicateName = (taken: string) =>
  badInput('name', `A model named ${JSON.stringify(taken)} exists already (model names are unique regardless of case)`);

/**
 * The model registry as users see it (rows mirrored from the models folder at
 * start), and the admin switches: enable/disable, default, minimum tier.
 */
export class ModelService {
  constructor(private readonly db: DataSource, private readonly deps: ModelRegistrationDeps) {}

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
    const isTheDefault = () => badInput('id', `Model ${model.name} is the default; choose another default first`);
    if (!enabled && model.isDefault) throw isTheDefault();
    // Conditional: a setDefault of this model committing meanwhile makes it match nothing (the row is re-read).
    const result = await this.db.getRepository(AiModel).update(enabled ? { id: model.id } : { id: model.id, isDefault: false }, { enabled });
    if (!result.affected) throw isTheDefault();
    this.deps.cache.forgetAll();
    return { ...model, enabled } as AiModel;
  }

  /** Makes an enabled model the one jobs without `modelId` use. */
  async setDefault(id: string): Promise<AiModel> {
    const model = await this.get(id);
    const disabled = () => badInput('id', `Model ${model.name} is disabled; enable it first`);
    if (!model.enabled) throw disabled();
    await this.db.transaction(async (m) => {
      await m.update(AiModel, { isDefault: true }, { isDefault: false });
      // Conditional, as setEnabled's: a disable committing meanwhile leaves no disabled default (all rolled back).
      const result = await m.update(AiModel, { id: model.id, enabled: true }, { isDefault: true });
      if (!result.affected) throw disabled();
    });
    this.deps.cache.forgetAll();
    return { ...model, isDefault: true } as AiModel;
  }

  /** The lowest tier allowed to use the model. */
  async setMinTier(id: string, minTier: Tier): Promise<AiModel> {
    const model = await this.get(id);
    await this.db.getRepository(AiModel).update({ id: model.id }, { minTier });
    this.deps.cache.forgetAll();
    return { ...model, minTier } as AiModel;
  }

  /**
   * Registers a model served by `input.backend` (docs/backends.md,
   * "Registering models"). Every field is checked before anything is written;
   * the unique index on the lowercased name settles two registrations at once.
   */
  async register(input: ModelInputValues): Promise<AiModel> {
    const checked = checkModelInput(input);
    await this.assertNameFree(checked.name, null);
    const values = { ...this.columnsOf(checked, await this.filesOf(checked)), enabled: true, isDefault: false };
    if (checked.credential) values.credentialCiphertext = sealCredential(checked.credential, this.deps.credentialKey);
    const models = this.db.getRepository(AiModel);
    const row = models.create(values);
    try {
      await models.insert(row);
      this.deps.cache.forgetAll();
      return await models.findOneByOrFail({ id: row.id });
    } catch (error) {
      if (isUniqueViolation(error)) throw await this.nameTaken(checked.name);
      throw error;
    }
  }

  /** Replaces a model's settings with `input`; the stored credential stays unless `credential` is given ("" removes it). */
  async update(id: string, input: ModelInputValues): Promise<AiModel> {
    const model = await this.get(id);
    const checked = checkModelInput(input);
    await this.assertNameFree(checked.name, model.id);
    const values = this.columnsOf(checked, await this.filesOf(checked));
    if (checked.backend === InferenceBackend.ONNX) values.credentialCiphertext = null;
    else if (checked.credential !== undefined) {
      values.credentialCiphertext = checked.credential ? sealCredential(checked.credential, this.deps.credentialKey) : null;
    }
    const models = this.db.getRepository(AiModel);
    try {
      await models.update({ id: model.id }, values as QueryDeepPartialEntity<AiModel>);
      this.deps.cache.forgetAll();
    } catch (error) {
      if (isUniqueViolation(error)) throw await this.nameTaken(checked.name);
      throw error;
    }
    return models.findOneByOrFail({ id: model.id });
  }

  /** Each endpoint of the model with the health workers last reported for it. */
  async endpointsOf(model: AiModel): Promise<ModelEndpointHealth[]> {
    if (model.endpoints.length === 0) return [];
    const health = await this.deps.health.read(model.id);
    return model.endpoints.map((url) => ({ url, health: health.get(url) ?? null }));
  }

  /**
   * True while jobs of a remote model wait for its backend: a worker holds
   * them back right now (the mark behind `Job.waitingFor`), or every endpoint's
   * breaker is open, so a job submitted now would wait (docs/backends.md).
   */
  async isWaitingForBackend(model: AiModel): Promise<boolean> {
    if (model.backend === InferenceBackend.ONNX || model.endpoints.length === 0) return false;
    if (await this.deps.health.waitingFor(model.id)) return true;
    const endpoints = await this.endpointsOf(model);
    return endpoints.every((e) => e.health?.state === 'OPEN');
  }

  /** Refuses a name another model has in any case; a model may keep its own, or change only its case. */
  private async assertNameFree(name: string, exceptId: string | null): Promise<void> {
    const other = await findModelNamed(this.db, name);
    if (other && other.id !== exceptId) throw duplicateName(other.name);
  }

  /** The refusal for a name the unique index found taken (a registration committing meanwhile). */
  private async nameTaken(name: string): Promise<Error> {
    return duplicateName((await findModelNamed(this.db, name))?.name ?? name);
  }

  private filesOf(checked: CheckedModelInput): Promise<OnnxFiles> {
    if (checked.backend !== InferenceBackend.ONNX) return Promise.resolve(NO_FILES);
    return locateOnnxModel(onnxFolderOf(checked), this.deps.modelsDir, this.deps.store);
  }

  private columnsOf(checked: CheckedModelInput, files: OnnxFiles): Partial<AiModel> {
    const { name, backend, description, minTier, endpoints, workflow, remoteModel, path } = checked;
    return { name, backend, description, minTier, endpoints, workflow, remoteModel, path, ...files };
  }
}

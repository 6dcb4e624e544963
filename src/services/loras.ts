import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { AiModel, Lora, LoraVisibility, Role, Tier, type User } from '../entities';
import { describeLoraTargets, type LoraTargetInfo } from '../gpu-worker/lora/writer';
import { layerKey } from '../gpu-worker/lora/lora-file';
import { inspectLoraOffThread, type LoraInspection, type LoraLayerShape } from '../gpu-worker/lora/lora-inspection';
import { PipelineError } from '../gpu-worker/pipeline/errors';
import { readModelIndex } from '../gpu-worker/pipeline/model-files';
import { checkNumber, GENERATION_LIMITS } from '../kernel/generation-parameters';
import { AppError, badInput, forbidden, notFound } from '../kernel/errors';
import type { ArtifactStore } from '../storage/artifact-store';
import { loraListedFor, loraListedWhere, managedBy } from './access-rules';
import { assertUuid } from '../kernel/ids';
import { throwIfViolated } from './generation-input';
import type { UploadService } from './uploads';

/** What registerLora receives. */
export interface LoraRegistration {
  uploadId: string;
  name: string;
  baseModelId: string;
  triggerWords?: string[] | null;
  defaultWeight?: number | null;
  minTier?: Tier | null;
  /** Omitted: PUBLIC when an admin registers it (the catalogue), PRIVATE for anyone else (docs/security.md, "Private LoRAs"). */
  visibility?: LoraVisibility | null;
}

/** What a registration without a visibility gets: admins add to the shared catalogue, everyone else keeps their file to themselves. */
const defaultRegistrationVisibility = (user: Pick<User, 'role'>): LoraVisibility =>
  user.role === Role.ADMIN ? LoraVisibility.PUBLIC : LoraVisibility.PRIVATE;

/** Where a registered LoRA's file lives; the worker reads `<storage root>/<key>`. */
export const loraStorageKey = (loraId: string): string => `loras/${loraId}.safetensors`;

/**
 * Checks every layer a LoRA adapts against the base model's adaptable layers:
 * the layer must exist and its out/in sizes must match (what the worker's merge
 * would otherwise fail on mid-job).
 */
export function checkLoraAgainstTargets(file: { layers: ReadonlyMap<string, LoraLayerShape> }, targets: LoraTargetInfo[], modelName: string): void {
  if (targets.length === 0) throw badInput('baseModelId', `Model ${modelName} does not support LoRAs`);
  const byKey = new Map(targets.map((t) => [layerKey(t.name), t]));
  for (const delta of file.layers.values()) {
    const target = byKey.get(delta.layer);
    if (!target) {
      throw badInput('uploadId', `The LoRA adapts ${delta.layer}, which ${modelName} does not have (adaptable: ${[...byKey.keys()].join(', ')})`);
    }
    if (target.outFeatures !== delta.outFeatures || target.inFeatures !== delta.inFeatures) {
      throw badInput('uploadId', `Layer ${delta.layer} is ${delta.outFeatures}x${delta.inFeatures} in the LoRA but ${target.outFeatures}x${target.inFeatures} in ${modelName}`);
    }
  }
}

function cleanTriggerWords(words: string[] | null | undefined): string[] {
  const list = [...new Set((words ?? []).map((w) => w.trim()).filter(Boolean))];
  if (list.length > 20) throw badInput('triggerWords', 'At most 20 trigger words');
  if (list.some((w) => w.length > 60)) throw badInput('triggerWords', 'Trigger words must be at most 60 characters');
  return list;
}

/**
 * The LoRA registry: files arrive through POST /uploads, registerLora checks
 * the safetensors header and the tensor shapes against the base model, and
 * stores the file where the worker looks for it. The same name again by the
 * same owner becomes the next version.
 */
export class LoraService {
  constructor(
    private readonly db: DataSource,
    private readonly store: ArtifactStore,
    private readonly uploads: UploadService,
    private readonly modelsDir: string,
  ) {}

  /** Public active LoRAs for everyone; owners and admins also see the private and inactive ones they manage. Newest version first. */
  list(user: User): Promise<Lora[]> {
    return this.db.getRepository(Lora).createQueryBuilder('l').where(loraListedWhere('l', user))
      .orderBy('l.name', 'ASC').addOrderBy('l.version', 'DESC').getMany();
  }

  async register(user: User, input: LoraRegistration): Promise<Lora> {
    const name = (input.name ?? '').trim();
    if (name.length < 1 || name.length > 80) throw badInput('name', 'name must be 1 to 80 characters');
    const triggerWords = cleanTriggerWords(input.triggerWords);
    const defaultWeight = input.defaultWeight ?? 1;
    throwIfViolated(checkNumber('defaultWeight', defaultWeight, GENERATION_LIMITS.loraWeight));
    const minTier = input.minTier ?? Tier.FREE;
    if (minTier !== Tier.FREE && user.role !== Role.ADMIN) throw forbidden('Only admins restrict LoRAs to a tier');
    const model = await this.db.getRepository(AiModel).findOneBy({ id: assertUuid('baseModelId', input.baseModelId) });
    if (!model) throw badInput('baseModelId', 'Model not found');
    if (!model.enabled) throw badInput('baseModelId', `Model ${model.name} is disabled`);

    const upload = await this.uploads.read(user.id, input.uploadId);
    if (!upload) throw badInput('uploadId', 'Upload not found: send the file to POST /uploads first');
    const { inspection, bytes } = await this.inspect(upload);
    checkLoraAgainstTargets(inspection, await this.targetsOf(model), model.name);

    const id = randomUUID();
    await this.store.put(loraStorageKey(id), bytes, 'application/octet-stream');
    try {
      const lora = await this.insertNextVersion(user, {
        id, name, baseModelId: model.id, triggerWords, defaultWeight, minTier, active: true,
        visibility: input.visibility ?? defaultRegistrationVisibility(user),
        storageKey: loraStorageKey(id), sha256: inspection.sha256,
      });
      await this.uploads.discard(user.id, input.uploadId);
      return lora;
    } catch (error) {
      await this.store.delete(loraStorageKey(id));
      throw error;
    }
  }

  /** Owner or admin switches a LoRA on or off for new jobs. */
  async setActive(user: User, id: string, active: boolean): Promise<Lora> {
    const lora = await this.managed(user, id);
    await this.db.getRepository(Lora).update({ id: lora.id }, { active });
    return { ...lora, active } as Lora;
  }

  /**
   * Owner or admin publishes one version to everyone or takes it back; other
   * versions of the name keep theirs. Jobs already admitted with it run on
   * (docs/security.md, "Private LoRAs").
   */
  async setVisibility(user: User, id: string, visibility: LoraVisibility): Promise<Lora> {
    const lora = await this.managed(user, id);
    await this.db.getRepository(Lora).update({ id: lora.id }, { visibility });
    return { ...lora, visibility } as Lora;
  }

  /** Admin: the lowest tier allowed to use the LoRA. */
  async setMinTier(id: string, minTier: Tier): Promise<Lora> {
    const lora = await this.get(id);
    await this.db.getRepository(Lora).update({ id: lora.id }, { minTier });
    return { ...lora, minTier } as Lora;
  }

  /** A LoRA the caller may change; one they cannot list (someone else's inactive or private LoRA) reads as an unknown id (docs/security.md). */
  private async managed(user: User, id: string): Promise<Lora> {
    const lora = await this.get(id);
    if (!loraListedFor(lora, user)) throw notFound('LoRA');
    if (!managedBy(lora, user)) throw forbidden('Only the LoRA\'s owner or an admin can do this');
    return lora;
  }

  private async get(id: string): Promise<Lora> {
    const lora = await this.db.getRepository(Lora).findOneBy({ id: assertUuid('id', id) });
    if (!lora) throw notFound('LoRA');
    return lora;
  }

  /** Parsing a 64 MB file takes about a second: on a thread of its own, never on the event loop. */
  private async inspect(bytes: Buffer): Promise<{ inspection: LoraInspection; bytes: Buffer }> {
    try {
      return await inspectLoraOffThread(bytes);
    } catch (error) {
      if (error instanceof PipelineError) throw badInput('uploadId', error.message.replace(/^LoRA upload: /, 'Not a valid LoRA: '));
      throw error;
    }
  }

  /**
   * The base model's adaptable layers, read from its model_index.json: the
   * same declaration the worker's pipeline loads, without opening ONNX sessions
   * in the API process.
   */
  private async targetsOf(model: AiModel): Promise<LoraTargetInfo[]> {
    let index;
    try {
      index = await readModelIndex(path.join(this.modelsDir, model.name));
    } catch {
      throw badInput('baseModelId', `Model ${model.name} is not installed on this server`);
    }
    return describeLoraTargets({ loraTargets: index.atelier?.lora_layers ?? [] });
  }

  /** Next version per (owner, name); the unique index settles a race between two registrations. */
  private async insertNextVersion(user: User, values: Partial<Lora>): Promise<Lora> {
    const repo = this.db.getRepository(Lora);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const last = await repo.maximum('version', { ownerId: user.id, name: values.name });
      const lora = repo.create({ ...values, ownerId: user.id, version: (last ?? 0) + 1 });
      try {
        await repo.insert(lora);
        return lora;
      } catch (error) {
        if ((error as { code?: string }).code !== '23505') throw error;
      }
    }
    throw new AppError('CONFLICT', 'Another version of this LoRA is being registered; try again', { field: 'name' });
  }
}

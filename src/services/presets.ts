import { DataSource, In } from 'typeorm';
import { AiModel, InferenceBackend, JobKind, Lora, Preset, PresetCategory, type JobLora, type TierPolicy, type User } from '../entities';
import {
  checkLoraWeights, checkNumber, checkPromptLength, checkSamplerSteps, GENERATION_DEFAULTS, GENERATION_LIMITS, type NumberLimit, type Sampler,
} from '../kernel/generation-parameters';
import { badInput, forbidden, notFound } from '../kernel/errors';
import type { AccessPolicy } from './access';
import { loraOpenTo, loraVisibleTo, managedBy, presetVisibleWhere, sessionRoleContributes } from './access-rules';
import { assertUuid } from '../kernel/ids';
import { presetDefaults, resolveGenerationParameters, throwIfViolated, type GenerationParameters } from './generation-input';
import { resolveVideoRequest, type VideoSettings } from './video-input';
import { isBlank } from '../kernel/visible-text';

/** What a user sends to create or replace a preset. */
export interface PresetInputData {
  name: string;
  category?: PresetCategory | null;
  template: string;
  negativePrompt?: string | null;
  width?: number | null;
  height?: number | null;
  steps?: number | null;
  guidanceScale?: number | null;
  sampler?: Sampler | null;
  modelId?: string | null;
  loras?: JobLora[] | null;
  durationSeconds?: number | null;
  fps?: number | null;
  sessionId?: string | null;
}

/** A preset applied to a prompt: what createGeneration with `presetId` would run. */
export interface AppliedPresetResult {
  preset: Preset;
  /** VIDEO for a VIDEO preset: createGeneration with it makes a clip. */
  kind: JobKind;
  /** The clip's settings (VIDEO), else null. */
  durationSeconds: number | null;
  fps: number | null;
  frames: number | null;
  prompt: string;
  negativePrompt: string | null;
  width: number;
  height: number;
  steps: number;
  guidanceScale: number;
  sampler: Sampler | null;
  modelId: string | null;
  loras: JobLora[];
}

const MAX_PRESET_LORAS = 5;

function applied(preset: Preset, params: GenerationParameters, video: VideoSettings | null): AppliedPresetResult {
  return {
    preset, kind: video ? JobKind.VIDEO : JobKind.IMAGE, durationSeconds: video?.durationSeconds ?? null, fps: video?.fps ?? null,
    frames: video?.frames ?? null, prompt: params.prompt, negativePrompt: params.negativePrompt, width: params.width, height: params.height,
    steps: params.steps, guidanceScale: params.guidanceScale, sampler: params.sampler, modelId: params.modelId, loras: params.loras,
  };
}

/** A preset parameter is optional; when given it must fit `limit`. */
function optional(field: string, value: number | null | undefined, limit: NumberLimit): number | null {
  if (value == null) return null;
  throwIfViolated(checkNumber(field, value, limit));
  return value;
}

const VIDEO_SECONDS: NumberLimit = { min: 0.5, max: 120, integer: false };
const VIDEO_FPS: NumberLimit = { min: 1, max: 120, integer: true };

/**
 * Presets: built-ins (seeded, read-only) for everyone; custom ones private to
 * their owner unless shared with a session, whose members then see them.
 */
export class PresetService {
  constructor(private readonly db: DataSource, private readonly access: AccessPolicy) {}

  private visibleQuery(user: User) {
    return this.db.getRepository(Preset).createQueryBuilder('p').where(presetVisibleWhere('p', user));
  }

  /** Built-ins first, then mine and my sessions', by name. */
  list(user: User, category?: PresetCategory | null): Promise<Preset[]> {
    const qb = this.visibleQuery(user);
    if (category) qb.andWhere('p.category = :category', { category });
    return qb.orderBy('p.builtIn', 'DESC').addOrderBy('p.name', 'ASC').addOrderBy('p.id', 'ASC').getMany();
  }

  /** The most used presets I can see. */
  popular(user: User, limit = 10): Promise<Preset[]> {
    if (!Number.isInteger(limit) || limit < 1 || limit > 50) throw badInput('limit', 'limit must be from 1 to 50');
    return this.visibleQuery(user).orderBy('p.usageCount', 'DESC').addOrderBy('p.name', 'ASC').take(limit).getMany();
  }

  /** A preset I can see, else NOT_FOUND. */
  async get(user: User, id: string): Promise<Preset> {
    const preset = await this.visibleQuery(user).andWhere('p.id = :id', { id: assertUuid('id', id) }).getOne();
    if (!preset) throw notFound('Preset');
    return preset;
  }

  async create(user: User, input: PresetInputData): Promise<Preset> {
    const values = await this.validate(user, input, null);
    const repo = this.db.getRepository(Preset);
    return repo.save(repo.create({ ...values, ownerId: user.id, builtIn: false, usageCount: 0 }));
  }

  /** Replaces a custom preset; built-ins and other people's presets cannot change. */
  async update(user: User, id: string, input: PresetInputData): Promise<Preset> {
    const preset = await this.assertMine(user, id, 'changed');
    const values = await this.validate(user, input, preset);
    await this.db.getRepository(Preset).update({ id: preset.id }, values);
    return this.db.getRepository(Preset).findOneByOrFail({ id: preset.id });
  }

  async delete(user: User, id: string): Promise<boolean> {
    const preset = await this.assertMine(user, id, 'deleted');
    await this.db.getRepository(Preset).delete({ id: preset.id, builtIn: false });
    return true;
  }

  /**
   * What createGeneration with this preset would run for `user` on `policy`
   * (their tier's limits), through the same resolution: a VIDEO preset's
   * clip as `resolveVideoRequest` fits it (side, steps, seconds and fps), an
   * IMAGE preset's parameters as `resolveGenerationParameters` does.
   */
  async apply(user: User, id: string, prompt: string, policy: TierPolicy): Promise<AppliedPresetResult> {
    const preset = await this.get(user, id);
    if (preset.category === PresetCategory.VIDEO) {
      const { params, video } = resolveVideoRequest({ prompt, seed: 0 }, preset, null, policy, () => 0);
      return applied(preset, params, video);
    }
    return applied(preset, resolveGenerationParameters({ prompt, seed: 0 }, presetDefaults(preset, policy), () => 0), null);
  }

  private async assertMine(user: User, id: string, verb: string): Promise<Preset> {
    const preset = await this.get(user, id);
    if (preset.builtIn) throw forbidden(`Built-in presets cannot be ${verb}`);
    if (!managedBy(preset, user)) throw forbidden(`Only the preset's owner can change it`);
    return preset;
  }

  /** A custom preset's fields, checked; `current` is the preset being replaced (null: a new one). */
  private async validate(user: User, input: PresetInputData, current: Preset | null): Promise<Partial<Preset>> {
    const name = (input.name ?? '').trim();
    if (isBlank(name) || name.length > 80) throw badInput('name', 'name must be 1 to 80 characters');
    // Two presets of one name in the picker, one of them built in, cannot be told apart. A preset that had the
    // name before this rule keeps it.
    if (name.toLowerCase() !== current?.name.toLowerCase() && await this.isBuiltInName(name)) {
      throw badInput('name', `${name} is the name of a built-in preset; choose another`);
    }
    const template = (input.template ?? '').trim();
    if (!template.includes('{prompt}')) throw badInput('template', 'template must contain {prompt}');
    if (template.length > 1000) throw badInput('template', 'template must be at most 1000 characters');
    const negativePrompt = input.negativePrompt?.trim() || null;
    if (negativePrompt) throwIfViolated(checkPromptLength('negativePrompt', negativePrompt));
    const category = input.category ?? PresetCategory.IMAGE;
    for (const field of ['durationSeconds', 'fps'] as const) {
      if (category !== PresetCategory.VIDEO && input[field] != null) throw badInput(field, `${field} applies to VIDEO presets only`);
    }
    const modelId = input.modelId ? await this.usableModel(input.modelId, category) : null;
    // The preset's LoRAs are for whoever generates with it: its owner (an admin may be editing someone's).
    const loras = await this.usableLoras(user, { id: current?.ownerId ?? user.id }, input.loras ?? [], modelId);
    if (input.sessionId) {
      const { role } = await this.access.assertSessionMember(user, assertUuid('sessionId', input.sessionId));
      if (!sessionRoleContributes(role)) throw forbidden('Watchers cannot share presets with this session');
    }
    const L = GENERATION_LIMITS;
    const steps = optional('steps', input.steps, L.steps);
    const sampler = input.sampler ?? null;
    throwIfViolated(checkSamplerSteps(sampler, steps ?? GENERATION_DEFAULTS.steps));
    return {
      name, template, negativePrompt, modelId, loras, sessionId: input.sessionId ?? null,
      category,
      width: optional('width', input.width, L.width),
      height: optional('height', input.height, L.height),
      steps,
      guidanceScale: optional('guidanceScale', input.guidanceScale, L.guidanceScale),
      sampler,
      durationSeconds: optional('durationSeconds', input.durationSeconds, VIDEO_SECONDS),
      fps: optional('fps', input.fps, VIDEO_FPS),
    };
  }

  private isBuiltInName(name: string): Promise<boolean> {
    return this.db.getRepository(Preset).createQueryBuilder('p')
      .where('p.builtIn = true AND lower(p.name) = lower(:name)', { name }).getExists();
  }

  private async usableModel(modelId: string, category: PresetCategory): Promise<string> {
    const model = await this.db.getRepository(AiModel).findOneBy({ id: assertUuid('modelId', modelId) });
    if (!model) throw badInput('modelId', 'Model not found');
    if (!model.enabled) throw badInput('modelId', `Model ${model.name} is disabled`);
    // As createVideo refuses it: frames come from the ONNX pipeline (docs/video.md).
    if (category === PresetCategory.VIDEO && model.backend !== InferenceBackend.ONNX) {
      throw badInput('modelId', `Model ${model.name} runs on ${model.backend}; video presets need an ONNX model`);
    }
    return model.id;
  }

  /**
   * LoRAs `editor` may bundle into a preset of `owner`'s: ones the editor can see (someone else's private
   * LoRA reads as an unknown id), that the owner may apply (their own or PUBLIC), active, for the model.
   */
  private async usableLoras(editor: User, owner: Pick<User, 'id'>, loras: JobLora[], modelId: string | null): Promise<JobLora[]> {
    if (loras.length > MAX_PRESET_LORAS) throw badInput('loras', `A preset bundles at most ${MAX_PRESET_LORAS} LoRAs`);
    loras.forEach((l, i) => assertUuid(`loras[${i}].loraId`, l.loraId));
    throwIfViolated(checkLoraWeights(loras));
    if (new Set(loras.map((l) => l.loraId)).size !== loras.length) throw badInput('loras', 'Each LoRA may appear once');
    const found = loras.length ? await this.db.getRepository(Lora).findBy({ id: In(loras.map((l) => l.loraId)) }) : [];
    const byId = new Map(found.map((l) => [l.id, l]));
    loras.forEach((l, i) => {
      const lora = byId.get(l.loraId);
      // Someone else's private LoRA reads as an unknown id (docs/security.md, "Private LoRAs").
      if (!lora || !lora.active || !loraVisibleTo(lora, editor)) throw badInput(`loras[${i}].loraId`, 'LoRA not found or inactive');
      if (!loraOpenTo(lora, owner)) throw badInput(`loras[${i}].loraId`, `LoRA ${lora.name} is private: only its owner generates with it`);
      if (modelId && lora.baseModelId !== modelId) throw badInput(`loras[${i}].loraId`, `LoRA ${lora.name} is for another base model`);
    });
    return loras.map((l) => ({ loraId: l.loraId, weight: l.weight }));
  }
}

import { DataSource, In, IsNull, Not } from 'typeorm';
import { AiModel, InferenceBackend, Preset, TierPolicy } from '../entities';
import { findModelNamed } from './model-names';
import { BUILT_IN_PRESETS, DEFAULT_TIER_POLICIES } from './reference-data';

/** Inserts missing tier policies; never overwrites limits an admin changed. */
export async function seedTierPolicies(db: DataSource): Promise<void> {
  await db.createQueryBuilder().insert().into(TierPolicy).values(DEFAULT_TIER_POLICIES).orIgnore().execute();
}

/** Inserts or refreshes the built-in presets (they are read-only to users). */
export async function seedBuiltInPresets(db: DataSource): Promise<void> {
  const presets = db.getRepository(Preset);
  for (const preset of BUILT_IN_PRESETS) {
    const existing = await presets.findOneBy({ name: preset.name, builtIn: true });
    const values = {
      name: preset.name,
      category: preset.category,
      template: preset.template,
      negativePrompt: preset.negativePrompt ?? null,
      width: preset.width ?? null,
      height: preset.height ?? null,
      guidanceScale: preset.guidanceScale ?? null,
      steps: preset.steps ?? null,
      durationSeconds: preset.durationSeconds ?? null,
      fps: preset.fps ?? null,
      builtIn: true,
      ownerId: null,
    };
    if (existing) await presets.update({ id: existing.id }, values);
    else await presets.insert(presets.create(values));
  }
}

export interface ScannedModel {
  name: string;
  description?: string | null;
  sha256: string;
  bytes: number;
  files: { path: string; sha256: string; bytes: number }[];
}

/**
 * Adds a model row, or records a changed folder's files and hashes on the
 * existing one: the one named so in any case (names are unique regardless of
 * case), which then takes the folder's spelling.
 */
export async function upsertModel(db: DataSource, model: ScannedModel, extra: { enabled?: boolean } = {}): Promise<void> {
  const models = db.getRepository(AiModel);
  const existing = await findModelNamed(db, model.name);
  const values = { name: model.name, description: model.description ?? null, sha256: model.sha256, bytes: model.bytes, files: model.files, ...extra };
  if (existing) await models.update({ id: existing.id }, values);
  else await models.insert(models.create({ enabled: true, isDefault: false, ...values }));
}

/**
 * Mirrors the models folder into the models table: new directories are
 * added, changed ones re-hashed, vanished ones disabled (jobs reference them)
 * unless `inStore` says the artifact store holds them (workers fetch those).
 * The configured default applies only while no installed model is the
 * default, so an admin's `setDefaultModel` survives restarts.
 */
export async function syncModels(db: DataSource, scanned: ScannedModel[], defaultModel: string,
  inStore: (name: string) => Promise<boolean> = async () => false): Promise<void> {
  const models = db.getRepository(AiModel);
  const synced = new Set<string>();
  for (const model of scanned) {
    // Two folders whose names differ only in case are one model name: the first (in scan order) is it.
    if (synced.has(model.name.toLowerCase())) continue;
    synced.add(model.name.toLowerCase());
    const existing = await findModelNamed(db, model.name);
    // A registered model that took the folder's name (in any case) keeps its settings.
    if (existing && (existing.backend !== InferenceBackend.ONNX || existing.path !== null)) continue;
    await upsertModel(db, model);
  }
  const names = scanned.map((m) => m.name);
  // Only folder models can vanish from the folder: registered ComfyUI / OpenAI-Images models (and ONNX ones with a path of their own) stay.
  const absent = await models.findBy({ name: names.length ? Not(In(names)) : Not(''), enabled: true, backend: InferenceBackend.ONNX, path: IsNull() });
  const gone: string[] = [];
  // A model pushed to the artifact store stays usable by workers whose folder lacks it (storage/model-folders.ts).
  for (const model of absent) if (!(await inStore(model.name))) gone.push(model.id);
  if (gone.length) await models.update({ id: In(gone) }, { enabled: false, isDefault: false });
  if (names.includes(defaultModel) && !(await models.existsBy({ isDefault: true, enabled: true }))) {
    await models.update({ name: defaultModel }, { isDefault: true, enabled: true });
  }
}

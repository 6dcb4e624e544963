import { Column, Entity, Index } from 'typeorm';
import { Field, Float, ObjectType } from 'type-graphql';
import { Identified } from './identified';
import type { ComfyWorkflow } from '../kernel/backends';
import { InferenceBackend, Tier } from './enums';

@ObjectType({ description: 'A file of a model directory with its hash.' })
export class ModelFile {
  @Field(() => String, { description: 'Path inside the model directory.' })
  path: string;

  @Field(() => String, { description: 'SHA-256 of the file.' })
  sha256: string;

  @Field(() => Float, { description: 'Size in bytes.' })
  bytes: number;
}

/** Names are unique regardless of case: a unique index on `lower(name)` (migration ModelNamesIgnoreCase), which TypeORM cannot declare. */
const MODEL_NAME_INDEX = 'uq_models_name_lower';

@ObjectType('Model', { description: 'A diffusion model: ONNX files from the models folder, or a registered ComfyUI or OpenAI-Images backend (docs/backends.md).' })
@Entity('models')
@Index(MODEL_NAME_INDEX, { synchronize: false })
export class AiModel extends Identified {
  @Field(() => String, { description: 'Directory name, unique.' })
  @Column('text')
  name: string;

  @Field(() => String, { nullable: true, description: 'What the model is.' })
  @Column('text', { nullable: true })
  description: string | null;

  @Field(() => String, { description: 'SHA-256 over the sorted file hashes.' })
  @Column('text')
  sha256: string;

  @Field(() => Float, { description: 'Total size in bytes.' })
  @Column('bigint', { transformer: { to: (v: number) => v, from: (v: string) => Number(v) } })
  bytes: number;

  @Field(() => [ModelFile], { description: 'Files with their hashes.' })
  @Column('jsonb', { default: () => "'[]'::jsonb" })
  files: ModelFile[];

  @Field(() => Boolean, { description: 'Disabled models refuse new jobs.' })
  @Column('boolean', { default: true })
  enabled: boolean;

  @Field(() => Boolean, { description: 'Used when a job names no model.' })
  @Column('boolean', { name: 'is_default', default: false })
  isDefault: boolean;

  @Field(() => Tier, { description: 'Lowest tier allowed to use it.' })
  @Column({ type: 'enum', enum: Tier, enumName: 'tier', name: 'min_tier', default: Tier.FREE })
  minTier: Tier;

  @Field(() => InferenceBackend, { description: 'What runs its generations.' })
  @Column({ type: 'enum', enum: InferenceBackend, enumName: 'inference_backend', default: InferenceBackend.ONNX })
  backend: InferenceBackend;

  /** Base URLs of the servers that serve it (COMFYUI, OPENAI_IMAGES); the pool spreads jobs over them. */
  @Column('jsonb', { default: () => "'[]'::jsonb" })
  endpoints: string[];

  /** COMFYUI: the workflow in ComfyUI's API format, with `{{placeholders}}` (docs/backends.md). */
  @Column('jsonb', { nullable: true })
  workflow: ComfyWorkflow | null;

  /** OPENAI_IMAGES: the `model` sent to the server. */
  @Column('text', { name: 'remote_model', nullable: true })
  remoteModel: string | null;

  /** Sealed with `sealCredential` (kernel/credentials.ts); never a GraphQL field, never logged. */
  @Column('text', { name: 'credential_ciphertext', nullable: true })
  credentialCiphertext: string | null;

  /** ONNX: the model's folder when it is not `<models dir>/<name>`. */
  @Column('text', { nullable: true })
  path: string | null;
}

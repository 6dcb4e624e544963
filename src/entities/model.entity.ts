import { Column, Entity, Index } from 'typeorm';
import { Field, Float, ObjectType } from 'type-graphql';
import { Identified } from './identified';
import { Tier } from './enums';

@ObjectType({ description: 'A file of a model directory with its hash.' })
export class ModelFile {
  @Field(() => String, { description: 'Path inside the model directory.' })
  path: string;

  @Field(() => String, { description: 'SHA-256 of the file.' })
  sha256: string;

  @Field(() => Float, { description: 'Size in bytes.' })
  bytes: number;
}

@ObjectType('Model', { description: 'A diffusion model (diffusers ONNX layout) found in the models folder.' })
@Entity('models')
export class AiModel extends Identified {
  @Field(() => String, { description: 'Directory name, unique.' })
  @Index({ unique: true })
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
}

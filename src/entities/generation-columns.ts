import { Column, type ColumnOptions } from 'typeorm';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { describeLimit, GENERATION_LIMITS, Sampler } from '../kernel/generation-parameters';

/** type-graphql's return-type function (its type is not exported by name). */
type GraphQLTypeOf = NonNullable<Parameters<typeof Field>[0]>;

/** A LoRA applied to a job with its weight. */
@ObjectType({ description: 'A LoRA applied to a job, with its weight.' })
export class JobLora {
  @Field(() => ID, { description: 'The LoRA applied.' })
  loraId: string;

  @Field(() => Float, { description: `Scale of the LoRA delta, ${describeLimit(GENERATION_LIMITS.loraWeight)}.` })
  weight: number;
}

interface ParameterColumn {
  column: ColumnOptions;
  graphql: GraphQLTypeOf;
}

/**
 * The generation parameters that both a job (the values it runs with) and a
 * preset (optional defaults) store: one column type, column name and GraphQL
 * type each, so the two tables cannot drift apart. Their ranges live in
 * kernel/generation-parameters.ts.
 */
const PARAMETER_COLUMNS = {
  negativePrompt: { column: { type: 'text', name: 'negative_prompt' }, graphql: () => String },
  width: { column: { type: 'int' }, graphql: () => Int },
  height: { column: { type: 'int' }, graphql: () => Int },
  steps: { column: { type: 'int' }, graphql: () => Int },
  guidanceScale: { column: { type: 'real', name: 'guidance_scale' }, graphql: () => Float },
  loras: { column: { type: 'jsonb', default: () => "'[]'::jsonb" }, graphql: () => [JobLora] },
  sampler: { column: { type: 'enum', enum: Sampler, enumName: 'sampler' }, graphql: () => Sampler },
} satisfies Record<string, ParameterColumn>;

/** A generation parameter shared by Job and Preset. */
export type SharedParameter = keyof typeof PARAMETER_COLUMNS;

/**
 * Declares a shared generation parameter as a column and a GraphQL field;
 * the entity gives the nullability and the description its readers need.
 */
export function ParameterColumn(parameter: SharedParameter, options: { description: string; nullable?: boolean }): PropertyDecorator {
  const { column, graphql } = PARAMETER_COLUMNS[parameter];
  const nullable = options.nullable ?? false;
  return (target, property) => {
    Field(graphql, { nullable, description: options.description })(target, property);
    Column({ ...column, nullable })(target, property);
  };
}

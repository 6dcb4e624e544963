import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { InferenceBackend, Tier } from '../entities';
import type { CircuitState } from '../kernel/backends';

/** The GraphQL face of kernel/backends.ts's CircuitState. */
export const CircuitStateEnum: { [S in CircuitState]: S } = { CLOSED: 'CLOSED', HALF_OPEN: 'HALF_OPEN', OPEN: 'OPEN' };

registerEnumType(CircuitStateEnum, {
  name: 'CircuitState',
  description: 'A circuit breaker\'s state for one backend endpoint (docs/backends.md).',
  valuesConfig: {
    CLOSED: { description: 'Requests go through.' },
    HALF_OPEN: { description: 'One probe request is let through to see whether the endpoint is back.' },
    OPEN: { description: 'The endpoint failed repeatedly; requests are held back until the breaker half-opens.' },
  },
});

@InputType({ description: 'A model to register or the new settings of one (admins; docs/backends.md, "Registering models").' })
export class ModelInput {
  @Field(() => String, { description: 'Unique name, 1..80 letters, digits, spaces, ".", "_" or "-".' })
  name: string;

  @Field(() => InferenceBackend, { description: 'What runs its generations.' })
  backend: InferenceBackend;

  @Field(() => String, { nullable: true, description: 'What the model is, at most 500 characters.' })
  description?: string | null;

  @Field(() => Tier, { nullable: true, description: 'Lowest tier allowed to use it (default FREE).' })
  minTier?: Tier | null;

  @Field(() => [String], { nullable: true, description: 'COMFYUI and OPENAI_IMAGES: base URLs (http or https) of the servers, 1..16; jobs go to the healthy one with the fewest in flight.' })
  endpoints?: string[] | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'COMFYUI: the workflow in ComfyUI\'s API format, with an image output node and "{{prompt}}" as the value of some input.' })
  workflow?: Record<string, unknown> | null;

  @Field(() => String, { nullable: true, description: 'OPENAI_IMAGES: the `model` the server expects.' })
  remoteModel?: string | null;

  @Field(() => String, { nullable: true, description: 'COMFYUI and OPENAI_IMAGES: a secret sent as a Bearer token; stored sealed and never returned. On update, absent keeps the stored one and "" removes it.' })
  credential?: string | null;

  @Field(() => String, { nullable: true, description: 'ONNX: the folder in the models folder (a folder only in the artifact store is registered by atelier models push); absent means the folder named like the model.' })
  path?: string | null;
}

@ObjectType({ description: 'What workers last reported about one endpoint (merged over workers, within the last minute).' })
export class EndpointHealthInfo {
  @Field(() => CircuitStateEnum, { description: 'The breaker\'s state; the worst over workers.' })
  state: CircuitState;

  @Field(() => Int, { description: 'Prompts running or held on this endpoint, summed over workers.' })
  inFlight: number;

  @Field(() => String, { nullable: true, description: 'The last transient failure, or null once a request succeeded after it.' })
  lastError: string | null;

  @Field(() => Date, { description: 'When a worker last reported.' })
  lastCheckedAt: Date;
}

@ObjectType({ description: 'One server of a model\'s pool.' })
export class ModelEndpoint {
  @Field(() => String, { description: 'Base URL.' })
  url: string;

  @Field(() => EndpointHealthInfo, { nullable: true, description: 'Its health; null until a worker has used or probed it in the last minute.' })
  health: EndpointHealthInfo | null;
}

import { Field, Float, ID, InputType } from 'type-graphql';
import { LoraVisibility, Tier } from '../entities';

@InputType({ description: 'A LoRA to register from a file sent to POST /uploads.' })
export class LoraInput {
  @Field(() => ID, { description: 'The uploadId POST /uploads answered.' })
  uploadId: string;

  @Field(() => String, { description: 'Name, 1..80 characters; the same name again becomes the next version.' })
  name: string;

  @Field(() => ID, { description: 'The model the LoRA was trained for; its layers and shapes must match.' })
  baseModelId: string;

  @Field(() => [String], { nullable: true, description: 'Words that activate the concept (at most 20).' })
  triggerWords?: string[] | null;

  @Field(() => Float, { nullable: true, description: 'Weight used when a job gives none, -2..2 (default 1).' })
  defaultWeight?: number | null;

  @Field(() => Tier, { nullable: true, description: 'Lowest tier allowed to use it (admins only; default FREE).' })
  minTier?: Tier | null;

  @Field(() => LoraVisibility, { nullable: true, description: 'PRIVATE (only you use it) or PUBLIC (everyone its tier allows). Default: PUBLIC when an admin registers it, PRIVATE otherwise.' })
  visibility?: LoraVisibility | null;
}

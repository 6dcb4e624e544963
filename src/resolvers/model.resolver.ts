import { Ctx, Query, Resolver } from 'type-graphql';
import { AiModel } from '../entities';
import type { AppContext } from '../schema/context';

@Resolver(() => AiModel)
export class ModelResolver {
  @Query(() => [AiModel], { description: 'Installed models with file hashes; the default first.' })
  models(@Ctx() ctx: AppContext): Promise<AiModel[]> {
    return ctx.services.db.getRepository(AiModel).find({ order: { isDefault: 'DESC', name: 'ASC' } });
  }
}

import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Image, Job } from '../entities';
import type { AppContext } from '../schema/context';

@Resolver(() => Image)
export class ImageResolver {
  @FieldResolver(() => String, { description: 'Signed URL of the PNG; expires (ATELIER_FILE_URL_TTL_SECONDS).' })
  url(@Root() image: Image, @Ctx() ctx: AppContext): string {
    return ctx.services.urlSigner.sign(image.storageKey, ctx.services.clock.now());
  }

  @FieldResolver(() => Job, { description: 'The job that made it.' })
  async job(@Root() image: Image, @Ctx() ctx: AppContext): Promise<Job> {
    return ctx.services.access.assertCanSeeJob(ctx.viewer!.user, image.jobId);
  }
}

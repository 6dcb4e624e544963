import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { Image, Job } from '../entities';
import type { AppContext } from './context';
import { libraryKey } from './library-loaders';
import { allowedWithSessionRole, jobVisibleTo } from '../services/access-rules';
import { ViewerDependent } from './viewer-dependent';

@Resolver(() => Image)
export class ImageResolver {
  @FieldResolver(() => String, { description: 'Signed URL of the PNG; expires (ATELIER_FILE_URL_TTL_SECONDS).' })
  url(@Root() image: Image, @Ctx() ctx: AppContext): string {
    return ctx.services.urlSigner.sign(image.storageKey, ctx.services.clock.now());
  }

  @ViewerDependent()
  @FieldResolver(() => Job, {
    nullable: true,
    description: 'The job that made it; null where you see the image only through a shared album or link.',
  })
  async job(@Root() image: Image, @Ctx() ctx: AppContext): Promise<Job | null> {
    // AccessPolicy.canSeeJob's rule, with the session role batched through a DataLoader.
    const user = ctx.viewer?.user;
    const job = user ? await ctx.loaders.job.load(image.jobId) : null;
    if (!user || !job) return null;
    const visible = await allowedWithSessionRole(jobVisibleTo, job, user, (sessionId) => ctx.loaders.sessionRole.load(libraryKey(sessionId, user.id)));
    return visible ? job : null;
  }
}

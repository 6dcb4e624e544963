import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { originOf, viewerOf, type AppContext } from './context';

/** Deleting what you own (services/data-lifecycle.ts); deleteAlbum is with the albums. */
@Resolver()
export class DataLifecycleResolver {
  @Mutation(() => Boolean, { description: 'Deletes one of your images and its file; it leaves every album it was in.' })
  deleteImage(@Arg('id', () => ID, { description: 'Image id.' }) id: string, @Ctx() ctx: AppContext): Promise<boolean> {
    return ctx.services.dataLifecycle.deleteImage(viewerOf(ctx).user, id);
  }

  @Mutation(() => Boolean, { description: 'Deletes one of your finished jobs with its images and their files (CONFLICT while it is queued or running).' })
  deleteJob(@Arg('id', () => ID, { description: 'Job id.' }) id: string, @Ctx() ctx: AppContext): Promise<boolean> {
    return ctx.services.dataLifecycle.deleteJob(viewerOf(ctx).user, id);
  }

  @Mutation(() => Boolean, {
    description: 'Deletes your account and everything you own (jobs, images, albums, sessions, presets, LoRAs, API keys, files). Usage statistics stay, anonymised. Not with an API key; CONFLICT while jobs are queued or running.',
  })
  deleteAccount(
    @Arg('confirmEmail', () => String, { description: 'Your account\'s email address, typed again to confirm.' }) confirmEmail: string,
    @Ctx() ctx: AppContext,
  ): Promise<boolean> {
    return ctx.services.dataLifecycle.deleteAccount(viewerOf(ctx).user, confirmEmail, originOf(ctx));
  }
}

import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import { Job } from '../entities';
import { viewerOf, type AppContext } from './context';
import { JobVideo, VideoInput } from './video.types';

/** createVideo and Job.video (docs/video.md). */
@Resolver(() => Job)
export class VideoResolver {
  @Mutation(() => Job, { description: 'Queues a VIDEO job (text-to-video, or image-to-video with fromImageId); counted against video seconds per day.' })
  createVideo(
    @Arg('input', () => VideoInput, { description: 'What clip to make.' }) input: VideoInput,
    @Arg('idempotencyKey', () => String, { nullable: true, description: 'Same key and input from the same user within 24 h returns the same job; the key with other input is a CONFLICT.' })
    idempotencyKey: string | null,
    @Ctx() ctx: AppContext,
  ): Promise<Job> {
    return ctx.services.jobs.createVideo(viewerOf(ctx), input, idempotencyKey ?? null, ctx.requestId);
  }

  @FieldResolver(() => JobVideo, { nullable: true, description: 'The clip of a COMPLETED VIDEO job, with signed URLs; null otherwise.' })
  video(@Root() job: Job, @Ctx() ctx: AppContext): JobVideo | null {
    if (!job.video) return null;
    const { storageKey, posterKey, ...facts } = job.video;
    const now = ctx.services.clock.now();
    return { ...facts, url: ctx.services.urlSigner.sign(storageKey, now), posterUrl: ctx.services.urlSigner.sign(posterKey, now) };
  }
}

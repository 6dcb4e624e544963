import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { CollabSession, Dataset, DatasetImage } from '../entities';
import { pagedComplexity } from './complexity';
import { policyOf, viewerOf, type AppContext } from './context';
import { sessionSeenBy } from './session.resolver';
import { DatasetConnection, DatasetImageInput, DatasetInput } from './training.types';
import { ViewerDependent } from './viewer-dependent';

@Resolver(() => Dataset)
export class DatasetResolver {
  @Query(() => Dataset, { description: 'A dataset you own or that is shared with your session.' })
  dataset(@Arg('id', () => ID, { description: 'Dataset id.' }) id: string, @Ctx() ctx: AppContext): Promise<Dataset> {
    return ctx.services.datasets.get(viewerOf(ctx).user, id);
  }

  @Query(() => DatasetConnection, { complexity: pagedComplexity(20), description: 'Datasets you own or that are shared with your sessions, newest first.' })
  async datasets(
    @Ctx() ctx: AppContext,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 1..100 (default 20).' }) first?: number | null,
    @Arg('after', () => String, { nullable: true, description: 'Cursor from pageInfo.endCursor.' }) after?: string | null,
  ): Promise<DatasetConnection> {
    const page = await ctx.services.datasets.list(viewerOf(ctx).user, first ?? 20, after);
    return { edges: page.nodes.map((node, i) => ({ node, cursor: page.cursors[i] })), pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.cursors.at(-1) ?? null } };
  }

  @Mutation(() => Dataset, { description: 'Creates an empty dataset, private unless shared with a session.' })
  createDataset(@Arg('input', () => DatasetInput, { description: 'The dataset.' }) input: DatasetInput, @Ctx() ctx: AppContext): Promise<Dataset> {
    return ctx.services.datasets.create(viewerOf(ctx).user, input);
  }

  @Mutation(() => Boolean, { description: 'Deletes one of your datasets and its images (runs trained on it keep their LoRAs). CONFLICT while a training run on it is queued or running.' })
  deleteDataset(@Arg('id', () => ID, { description: 'Dataset id.' }) id: string, @Ctx() ctx: AppContext): Promise<boolean> {
    return ctx.services.datasets.delete(viewerOf(ctx).user, id);
  }

  @Mutation(() => [DatasetImage], { description: 'Adds uploaded images with captions to your dataset. Every upload is checked by content first; if one is refused, none is added. CONFLICT while a training run on it is queued or running.' })
  async addDatasetImages(
    @Arg('datasetId', () => ID, { description: 'Your dataset.' }) datasetId: string,
    @Arg('images', () => [DatasetImageInput], { description: 'Uploads and captions, 1 to 100.' }) images: DatasetImageInput[],
    @Ctx() ctx: AppContext,
  ): Promise<DatasetImage[]> {
    return ctx.services.datasets.addImages(viewerOf(ctx).user, datasetId, images, await policyOf(ctx));
  }

  @Mutation(() => DatasetImage, { description: 'Changes an image\'s caption. CONFLICT while a training run on its dataset is queued or running.' })
  updateDatasetImage(
    @Arg('id', () => ID, { description: 'Dataset image id.' }) id: string,
    @Arg('caption', () => String, { description: 'The new caption.' }) caption: string,
    @Ctx() ctx: AppContext,
  ): Promise<DatasetImage> {
    return ctx.services.datasets.updateImage(viewerOf(ctx).user, id, caption);
  }

  @Mutation(() => Int, { description: 'Removes images from your dataset; returns how many were removed. CONFLICT while a training run on it is queued or running.' })
  removeDatasetImages(
    @Arg('datasetId', () => ID, { description: 'Your dataset.' }) datasetId: string,
    @Arg('imageIds', () => [ID], { description: 'Images of that dataset.' }) imageIds: string[],
    @Ctx() ctx: AppContext,
  ): Promise<number> {
    return ctx.services.datasets.removeImages(viewerOf(ctx).user, datasetId, imageIds);
  }

  @FieldResolver(() => [DatasetImage], { description: 'The images, oldest first.' })
  images(@Root() dataset: Dataset, @Ctx() ctx: AppContext): Promise<DatasetImage[]> {
    return ctx.services.datasets.images(dataset.id);
  }

  @ViewerDependent()
  @FieldResolver(() => Boolean, { description: 'Whether you own it (and may change it).' })
  mine(@Root() dataset: Dataset, @Ctx() ctx: AppContext): boolean {
    return dataset.ownerId === ctx.viewer?.user.id;
  }

  @ViewerDependent()
  @FieldResolver(() => CollabSession, { nullable: true, description: 'The session it is shared with (null unless you are a member).' })
  session(@Root() dataset: Dataset, @Ctx() ctx: AppContext): Promise<CollabSession | null> {
    return sessionSeenBy(ctx, dataset.sessionId);
  }
}

@Resolver(() => DatasetImage)
export class DatasetImageResolver {
  @FieldResolver(() => String, { description: 'Signed URL of the image file (expires; for thumbnails and downloads).' })
  url(@Root() image: DatasetImage, @Ctx() ctx: AppContext): string {
    return ctx.services.urlSigner.sign(image.storageKey, ctx.services.clock.now());
  }
}

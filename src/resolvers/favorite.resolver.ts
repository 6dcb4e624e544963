import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Image } from '../entities';
import { viewerOf, type AppContext } from './context';
import { pagedComplexity } from './complexity';
import { libraryKey } from './library-loaders';
import { FavoriteImageConnection } from './favorite.types';
import { ViewerDependent } from './viewer-dependent';

@Resolver(() => Image)
export class FavoriteResolver {
  @Query(() => FavoriteImageConnection, { complexity: pagedComplexity(20), description: 'Your favourite images that you can still see, newest favourite first.' })
  async favorites(
    @Ctx() ctx: AppContext,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 1..100 (default 20).' }) first?: number | null,
    @Arg('after', () => String, { nullable: true, description: 'Cursor from pageInfo.endCursor.' }) after?: string | null,
  ): Promise<FavoriteImageConnection> {
    const page = await ctx.services.favorites.list(viewerOf(ctx).user, first ?? 20, after);
    return {
      edges: page.nodes.map((node, i) => ({ node, cursor: page.cursors[i] })),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.cursors.at(-1) ?? null },
    };
  }

  @Mutation(() => Image, { description: 'Marks an image you can see as a favourite (again is harmless).' })
  favoriteImage(@Arg('imageId', () => ID, { description: 'Image id.' }) imageId: string, @Ctx() ctx: AppContext): Promise<Image> {
    return ctx.services.favorites.add(viewerOf(ctx).user, imageId);
  }

  @Mutation(() => Image, {
    nullable: true,
    description: 'Removes an image from your favourites, also one you can no longer see; returns the image, or null where you cannot see it.',
  })
  unfavoriteImage(@Arg('imageId', () => ID, { description: 'Image id.' }) imageId: string, @Ctx() ctx: AppContext): Promise<Image | null> {
    return ctx.services.favorites.remove(viewerOf(ctx).user, imageId);
  }

  @ViewerDependent()
  @FieldResolver(() => Boolean, { description: 'Whether it is one of your favourites.' })
  async favorited(@Root() image: Image, @Ctx() ctx: AppContext): Promise<boolean> {
    return ctx.viewer ? ctx.loaders.isFavorite.load(libraryKey(ctx.viewer.user.id, image.id)) : false;
  }
}

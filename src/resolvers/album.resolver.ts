import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Album, AlbumRole, Image, User } from '../entities';
import { viewerOf, type AppContext } from './context';
import { libraryKey } from './library-loaders';
import { pagedComplexity } from './complexity';
import { assertPageSize, decodeAlbumCursor } from '../services/album-images';
import { AlbumAccessRole, albumAccessWith } from '../services/access-rules';
import { AlbumConnection, AlbumImageConnection, AlbumLinkView, AlbumMember, CreatedAlbumLink } from './album.types';
import { ViewerDependent } from './viewer-dependent';

const idArg = { description: 'Album id.' };
const imageIdsArg = { description: 'Image ids (at most 500).' };

@Resolver(() => Album)
export class AlbumResolver {
  @Query(() => Album, { nullable: true, description: 'An album you own, that is shared with you, or (admins) any album.' })
  album(@Arg('id', () => ID, idArg) id: string, @Ctx() ctx: AppContext): Promise<Album | null> {
    return ctx.services.albums.find(viewerOf(ctx).user, id);
  }

  @Query(() => AlbumConnection, { complexity: pagedComplexity(20), description: 'Albums you own or that are shared with you, newest first.' })
  async albums(
    @Ctx() ctx: AppContext,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 1..100 (default 20).' }) first?: number | null,
    @Arg('after', () => String, { nullable: true, description: 'Cursor from pageInfo.endCursor.' }) after?: string | null,
  ): Promise<AlbumConnection> {
    const page = await ctx.services.albums.list(viewerOf(ctx).user, first ?? 20, after);
    return {
      edges: page.nodes.map((node, i) => ({ node, cursor: page.cursors[i] })),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.cursors.at(-1) ?? null },
    };
  }

  @Query(() => Album, { nullable: true, description: 'The album behind a shared link; null once the link expired or was revoked. No sign-in needed.' })
  sharedAlbum(@Arg('token', () => String, { description: 'The link token.' }) token: string, @Ctx() ctx: AppContext): Promise<Album | null> {
    return ctx.services.albumSharing.albumByToken(token);
  }

  @Mutation(() => Album, { description: 'Creates a private album.' })
  createAlbum(
    @Arg('name', () => String, { description: 'Name, 1..120 characters.' }) name: string,
    @Arg('description', () => String, { nullable: true, description: 'Free text.' }) description: string | null,
    @Ctx() ctx: AppContext,
  ): Promise<Album> {
    return ctx.services.albums.create(viewerOf(ctx).user, name, description);
  }

  @Mutation(() => Album, { description: 'Renames an album and/or changes its description (owner and editors).' })
  renameAlbum(
    @Arg('id', () => ID, idArg) id: string,
    @Arg('name', () => String, { nullable: true, description: 'New name (unchanged when absent).' }) name: string | null,
    @Arg('description', () => String, { nullable: true, description: 'New description (unchanged when absent; empty clears it).' }) description: string | null | undefined,
    @Ctx() ctx: AppContext,
  ): Promise<Album> {
    return ctx.services.albums.update(viewerOf(ctx).user, id, { name, description: description === null ? undefined : description });
  }

  @Mutation(() => Boolean, { description: 'Deletes an album (its owner); the images themselves stay.' })
  deleteAlbum(@Arg('id', () => ID, idArg) id: string, @Ctx() ctx: AppContext): Promise<boolean> {
    return ctx.services.albums.delete(viewerOf(ctx).user, id);
  }

  @Mutation(() => Album, { description: 'Appends images you can see (an editor also ones they removed from this album that its owner can see), in the given order; ones already there stay put.' })
  addImagesToAlbum(
    @Arg('albumId', () => ID, idArg) albumId: string,
    @Arg('imageIds', () => [ID], imageIdsArg) imageIds: string[],
    @Ctx() ctx: AppContext,
  ): Promise<Album> {
    return ctx.services.albums.addImages(viewerOf(ctx).user, albumId, imageIds);
  }

  @Mutation(() => Album, { description: 'Removes images from an album (not from the library).' })
  removeImagesFromAlbum(
    @Arg('albumId', () => ID, idArg) albumId: string,
    @Arg('imageIds', () => [ID], imageIdsArg) imageIds: string[],
    @Ctx() ctx: AppContext,
  ): Promise<Album> {
    return ctx.services.albums.removeImages(viewerOf(ctx).user, albumId, imageIds);
  }

  @Mutation(() => Album, { description: 'Sets the cover to one of the album\'s images, or clears it with null (then the first image is the cover).' })
  setAlbumCover(
    @Arg('albumId', () => ID, idArg) albumId: string,
    @Arg('imageId', () => ID, { nullable: true, description: 'An image of the album, or null.' }) imageId: string | null,
    @Ctx() ctx: AppContext,
  ): Promise<Album> {
    return ctx.services.albums.setCover(viewerOf(ctx).user, albumId, imageId ?? null);
  }

  @Mutation(() => Album, { description: 'Puts the album\'s images in this order; list each image exactly once.' })
  reorderAlbumImages(
    @Arg('albumId', () => ID, idArg) albumId: string,
    @Arg('imageIds', () => [ID], { description: 'Every image of the album, in the new order.' }) imageIds: string[],
    @Ctx() ctx: AppContext,
  ): Promise<Album> {
    return ctx.services.albums.reorder(viewerOf(ctx).user, albumId, imageIds);
  }

  @Mutation(() => Album, { description: 'Shares an album with a user as VIEWER or EDITOR, or changes their role (owner).' })
  shareAlbum(
    @Arg('albumId', () => ID, idArg) albumId: string,
    @Arg('userId', () => ID, { description: 'The user to share with.' }) userId: string,
    @Arg('role', () => AlbumRole, { description: 'VIEWER or EDITOR.' }) role: AlbumRole,
    @Ctx() ctx: AppContext,
  ): Promise<Album> {
    return ctx.services.albumSharing.share(viewerOf(ctx).user, albumId, userId, role);
  }

  @Mutation(() => Album, { description: 'Stops sharing with a user (owner), or leaves an album shared with you.' })
  unshareAlbum(
    @Arg('albumId', () => ID, idArg) albumId: string,
    @Arg('userId', () => ID, { description: 'The member to remove (yourself to leave).' }) userId: string,
    @Ctx() ctx: AppContext,
  ): Promise<Album> {
    return ctx.services.albumSharing.unshare(viewerOf(ctx).user, albumId, userId);
  }

  @Mutation(() => CreatedAlbumLink, { description: 'Creates an expiring read-only link to an album (owner); the token is shown once.' })
  createAlbumLink(
    @Arg('albumId', () => ID, idArg) albumId: string,
    @Arg('expiresInHours', () => Int, { nullable: true, description: 'Hours until it stops working, 1..8760 (default 168).' }) expiresInHours: number | null,
    @Ctx() ctx: AppContext,
  ): Promise<CreatedAlbumLink> {
    return ctx.services.albumSharing.createLink(viewerOf(ctx).user, albumId, expiresInHours);
  }

  @Mutation(() => AlbumLinkView, { description: 'Revokes an album link at once (owner).' })
  revokeAlbumLink(@Arg('id', () => ID, { description: 'Link id.' }) id: string, @Ctx() ctx: AppContext): Promise<AlbumLinkView> {
    return ctx.services.albumSharing.revokeLink(viewerOf(ctx).user, id);
  }

  @ViewerDependent()
  @FieldResolver(() => User, {
    nullable: true,
    description: 'Who owns it, for its owner, those it is shared with and admins; null for visitors through a link (see ownerName).',
  })
  async owner(@Root() album: Album, @Ctx() ctx: AppContext): Promise<User | null> {
    // A link reaches anyone it is forwarded to: they see a name (ownerName), not the account and its email.
    return (await this.viewerRole(album, ctx)) ? ctx.loaders.user.load(album.ownerId) : null;
  }

  @FieldResolver(() => String, { nullable: true, description: 'The owner\'s display name (never the email), shown to everyone who can open the album; null when they set none.' })
  async ownerName(@Root() album: Album, @Ctx() ctx: AppContext): Promise<string | null> {
    return (await ctx.loaders.user.load(album.ownerId))?.displayName ?? null;
  }

  @FieldResolver(() => Date, { description: 'Last change to the album or its images.' })
  updatedAt(@Root() album: Album): Date {
    return album.updatedAt;
  }

  @ViewerDependent()
  @FieldResolver(() => AlbumAccessRole, { nullable: true, description: 'What you may do with it (null: you see it through a link).' })
  async viewerRole(@Root() album: Album, @Ctx() ctx: AppContext): Promise<AlbumAccessRole | null> {
    const user = ctx.viewer?.user;
    if (!user) return null;
    return albumAccessWith(album, user, () => ctx.loaders.albumShareRole.load(libraryKey(album.id, user.id)));
  }

  @FieldResolver(() => Int, { description: 'How many images it holds.' })
  imageCount(@Root() album: Album, @Ctx() ctx: AppContext): Promise<number> {
    return ctx.loaders.albumImageCount.load(album.id);
  }

  @FieldResolver(() => Image, { nullable: true, description: 'The chosen cover, else the first image; null when empty.' })
  async cover(@Root() album: Album, @Ctx() ctx: AppContext): Promise<Image | null> {
    // A chosen cover deleted since (its row gone) gives way to the first image, like a cleared one.
    const chosen = album.coverImageId ? await ctx.loaders.image.load(album.coverImageId) : null;
    if (chosen) return chosen;
    const page = await ctx.loaders.albumImages.load({ albumId: album.id, first: 1, after: null });
    return page.items[0]?.image ?? null;
  }

  @FieldResolver(() => AlbumImageConnection, { complexity: pagedComplexity(50), description: 'The album\'s images in album order.' })
  async images(
    @Root() album: Album,
    @Ctx() ctx: AppContext,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 1..200 (default 50).' }) first?: number | null,
    @Arg('after', () => String, { nullable: true, description: 'Cursor from pageInfo.endCursor.' }) after?: string | null,
  ): Promise<AlbumImageConnection> {
    // A bad cursor is refused here, before the loader, where it would fail the other albums' pages of the batch too.
    if (after) decodeAlbumCursor(after);
    const page = await ctx.loaders.albumImages.load({ albumId: album.id, first: assertPageSize(first), after: after ?? null });
    return {
      edges: page.items.map((item, i) => ({ cursor: page.cursors[i], node: item.image as Image, position: item.position, addedAt: item.addedAt })),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.cursors.at(-1) ?? null },
    };
  }

  @ViewerDependent()
  @FieldResolver(() => [AlbumMember], { description: 'Who it is shared with (visible to the owner; empty for others).' })
  members(@Root() album: Album, @Ctx() ctx: AppContext): Promise<AlbumMember[]> {
    return album.ownerId === ctx.viewer?.user.id ? ctx.services.albumSharing.members(album) : Promise.resolve([]);
  }

  @ViewerDependent()
  @FieldResolver(() => [AlbumLinkView], { description: 'Links that still work (visible to the owner; empty for others).' })
  links(@Root() album: Album, @Ctx() ctx: AppContext): Promise<AlbumLinkView[]> {
    return album.ownerId === ctx.viewer?.user.id ? ctx.services.albumSharing.activeLinks(album) : Promise.resolve([]);
  }
}

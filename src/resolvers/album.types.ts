import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Album, AlbumRole, Image, User } from '../entities';
import { AlbumAccessRole } from '../services/access-rules';
import { PageInfo } from './job.types';

registerEnumType(AlbumAccessRole, { name: 'AlbumAccessRole', description: 'What you may do with an album: OWNER, EDITOR or VIEWER.' });

@ObjectType({ description: 'An image in an album, with its place.' })
export class AlbumImageEdge {
  @Field(() => String, { description: 'Opaque cursor.' })
  cursor: string;

  @Field(() => Image, { description: 'The image.' })
  node: Image;

  @Field(() => Int, { description: 'Position in the album (ascending).' })
  position: number;

  @Field(() => Date, { description: 'When it was added.' })
  addedAt: Date;
}

@ObjectType({ description: 'A page of an album\'s images, in album order.' })
export class AlbumImageConnection {
  @Field(() => [AlbumImageEdge], { description: 'The images with cursors.' })
  edges: AlbumImageEdge[];

  @Field(() => PageInfo, { description: 'Paging state.' })
  pageInfo: PageInfo;
}

@ObjectType({ description: 'An album in a page of albums.' })
export class AlbumEdge {
  @Field(() => String, { description: 'Opaque cursor.' })
  cursor: string;

  @Field(() => Album, { description: 'The album.' })
  node: Album;
}

@ObjectType({ description: 'A page of albums you own or that are shared with you, newest first.' })
export class AlbumConnection {
  @Field(() => [AlbumEdge], { description: 'The albums with cursors.' })
  edges: AlbumEdge[];

  @Field(() => PageInfo, { description: 'Paging state.' })
  pageInfo: PageInfo;
}

@ObjectType({ description: 'A user an album is shared with.' })
export class AlbumMember {
  @Field(() => User, { description: 'The user.' })
  user: User;

  @Field(() => AlbumRole, { description: 'VIEWER or EDITOR.' })
  role: AlbumRole;

  @Field(() => Date, { description: 'When it was shared.' })
  sharedAt: Date;
}

@ObjectType('AlbumLink', { description: 'A read-only link to an album; works until it expires or is revoked.' })
export class AlbumLinkView {
  @Field(() => ID, { description: 'Link id (for revokeAlbumLink).' })
  id: string;

  @Field(() => Date, { description: 'When it was made.' })
  createdAt: Date;

  @Field(() => Date, { description: 'When it stops working.' })
  expiresAt: Date;

  @Field(() => Date, { nullable: true, description: 'When it was revoked.' })
  revokedAt: Date | null;
}

@ObjectType({ description: 'A new album link; the token is shown only this once.' })
export class CreatedAlbumLink {
  @Field(() => AlbumLinkView, { description: 'The link.' })
  link: AlbumLinkView;

  @Field(() => String, { description: 'Secret token; open the album with sharedAlbum(token).' })
  token: string;
}

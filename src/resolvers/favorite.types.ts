import { Field, ObjectType } from 'type-graphql';
import { Image } from '../entities';
import { PageInfo } from './job.types';

@ObjectType({ description: 'A favourite image in a page of favourites.' })
export class FavoriteImageEdge {
  @Field(() => String, { description: 'Opaque cursor.' })
  cursor: string;

  @Field(() => Image, { description: 'The image.' })
  node: Image;
}

@ObjectType({ description: 'A page of your favourite images, newest favourite first.' })
export class FavoriteImageConnection {
  @Field(() => [FavoriteImageEdge], { description: 'The images with cursors.' })
  edges: FavoriteImageEdge[];

  @Field(() => PageInfo, { description: 'Paging state.' })
  pageInfo: PageInfo;
}

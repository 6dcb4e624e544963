import type { ReactNode } from 'react';
import type { GalleryImageFragment } from '../gql/graphql';
import { AnimateLink, FavoriteButton } from './ImageActions';

/** Alt text for a generated image: its prompt and seed. */
export function altOf(image: Pick<GalleryImageFragment, 'seed' | 'job'>): string {
  return `${image.job?.prompt ?? 'Generated image'} (seed ${image.seed})`;
}

/** A grid of images, each opening full size, with a favourite star and optional extra actions. */
export function Gallery({ images, actions }: { images: GalleryImageFragment[]; actions?: (image: GalleryImageFragment) => ReactNode }) {
  return (
    <ul className="gallery">
      {images.map((image) => (
        <li key={image.id} className="gallery-item">
          <a href={image.url} target="_blank" rel="noreferrer" className="thumb">
            <img src={image.url} alt={altOf(image)} width={image.width} height={image.height} loading="lazy" />
          </a>
          <div className="gallery-bar">
            <span className="small muted truncate" title={image.job?.prompt}>{image.job?.prompt ?? `seed ${image.seed}`}</span>
            <FavoriteButton imageId={image.id} favorited={image.favorited} label={altOf(image)} />
            <AnimateLink image={{ id: image.id, url: image.url, seed: image.seed, prompt: image.job?.prompt ?? '' }} label={altOf(image)} />
            {actions?.(image)}
          </div>
        </li>
      ))}
    </ul>
  );
}

import { useMutation, useQuery } from '@apollo/client/react';
import { useState } from 'react';
import { Link } from 'react-router';
import { AddImagesToAlbumMutation, AlbumsQuery } from '../operations/albums';
import { FavoriteImageMutation, UnfavoriteImageMutation } from '../operations/library';
import { ErrorNotice } from './Notice';

/** A star that toggles an image in your favourites (a toggle button, announced as pressed or not). */
export function FavoriteButton({ imageId, favorited, label }: { imageId: string; favorited: boolean; label: string }) {
  const [favorite, favState] = useMutation(FavoriteImageMutation, { refetchQueries: ['Favorites'] });
  const [unfavorite, unfavState] = useMutation(UnfavoriteImageMutation, {
    refetchQueries: ['Favorites'],
    // Null: the favourite is gone, but the image is no longer yours to see (it left a session you were
    // removed from), so no Image comes back to update the star: it is cleared here.
    update: (cache, { data }) => {
      if (data && data.unfavoriteImage === null) {
        cache.modify({ id: cache.identify({ __typename: 'Image', id: imageId }), fields: { favorited: () => false } });
      }
    },
  });
  const [gone, setGone] = useState(false);
  const busy = favState.loading || unfavState.loading;
  const toggle = () => {
    if (favorited) {
      void unfavorite({ variables: { imageId } }).then((r) => setGone(r.data?.unfavoriteImage === null), () => undefined);
    } else {
      setGone(false);
      void favorite({ variables: { imageId } }).catch(() => undefined);
    }
  };
  return (
    <>
      <button type="button" className={`icon-button${favorited ? ' on' : ''}`} aria-pressed={favorited} disabled={busy}
        aria-label={`Favourite ${label}`} title={favorited ? 'Remove from favourites' : 'Add to favourites'} onClick={toggle}>
        {favorited ? '★' : '☆'}
      </button>
      {gone && <span role="status" className="small muted">Removed from your favourites; this image is no longer shared with you.</span>}
      <ErrorNotice error={favState.error ?? unfavState.error} />
    </>
  );
}

/** "Animate": opens the Video page to make a clip that starts from this image (its seed and settings). */
export function AnimateLink({ image, label }: { image: { id: string; url: string; seed: number; prompt: string }; label: string }) {
  return (
    <Link className="button ghost small" to={`/video?from=${image.id}`} state={{ image }} aria-label={`Animate ${label}`}>
      Animate
    </Link>
  );
}

/** Puts images into one of your albums (those you own or may edit). */
export function AddToAlbum({ imageIds, label = 'Add to album' }: { imageIds: string[]; label?: string }) {
  const albums = useQuery(AlbumsQuery, { variables: { first: 100 } });
  const [add, state] = useMutation(AddImagesToAlbumMutation);
  const [added, setAdded] = useState<{ id: string; name: string } | null>(null);
  const writable = (albums.data?.albums.edges ?? []).map((e) => e.node).filter((a) => a.viewerRole === 'OWNER' || a.viewerRole === 'EDITOR');
  if (albums.error) return null;
  if (albums.data && writable.length === 0) return <Link to="/albums" className="button ghost small">Create an album</Link>;
  const id = `album-for-${imageIds[0]}`;
  return (
    <span className="inline">
      <label htmlFor={id} className="sr-only">{label}</label>
      <select id={id} value="" disabled={state.loading} className="compact"
        onChange={(e) => {
          const album = writable.find((a) => a.id === e.target.value);
          if (!album) return;
          void add({ variables: { albumId: album.id, imageIds } }).then(() => setAdded({ id: album.id, name: album.name }), () => undefined);
        }}>
        <option value="">{label}…</option>
        {writable.map((a) => <option key={a.id} value={a.id}>{a.name}</option>)}
      </select>
      {added && <span role="status" className="small">Added to <Link to={`/albums/${added.id}`}>{added.name}</Link></span>}
      <ErrorNotice error={state.error} />
    </span>
  );
}

import { useMutation, useQuery } from '@apollo/client/react';
import { Link, useNavigate, useParams } from 'react-router';
import { AddFromHistory } from '../components/AddFromHistory';
import { AlbumSharing } from '../components/AlbumSharing';
import { Gallery } from '../components/Gallery';
import { EmptyState, ErrorNotice } from '../components/Notice';
import { lookupError } from '../lib/errors';
import { AlbumQuery, DeleteAlbumMutation, RemoveImagesFromAlbumMutation } from '../operations/albums';

/** One album: its gallery, adding from history, sharing (owner) and removal (owner or editor). */
export function AlbumPage() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const { data, loading, error } = useQuery(AlbumQuery, { variables: { id, first: 100 } });
  const [remove, removeState] = useMutation(RemoveImagesFromAlbumMutation, { refetchQueries: ['Album'] });
  const [destroy, destroyState] = useMutation(DeleteAlbumMutation, { refetchQueries: ['Albums'] });
  if (loading && !data) return <p className="loading" role="status">Loading album…</p>;
  if (lookupError(error)) return <ErrorNotice error={error} />;
  const album = data?.album;
  if (!album) return <EmptyState title="Album not found">It does not exist or is not shared with you. <Link to="/albums">Your albums</Link>.</EmptyState>;
  const canEdit = album.viewerRole === 'OWNER' || album.viewerRole === 'EDITOR';
  const images = album.images.edges.map((e) => e.node);
  return (
    <div className="stack">
      <header className="page-head">
        <div>
          <h1>{album.name}</h1>
          <p className="muted">{album.description ? `${album.description} · ` : ''}{album.imageCount} image{album.imageCount === 1 ? '' : 's'}</p>
        </div>
        {album.viewerRole === 'OWNER' && (
          <button type="button" className="button ghost danger" disabled={destroyState.loading}
            onClick={() => {
              if (window.confirm(`Delete the album “${album.name}”? The images stay in your history.`)) {
                void destroy({ variables: { id } }).then(() => navigate('/albums'), () => undefined);
              }
            }}>
            Delete album
          </button>
        )}
      </header>
      <ErrorNotice error={removeState.error ?? destroyState.error} />
      <div className="room-grid">
        <section aria-labelledby="album-images">
          <h2 id="album-images" className="h3">Images</h2>
          {images.length === 0 ? (
            <EmptyState title="This album is empty">{canEdit ? 'Add images from your history, or from a finished job.' : 'Nothing here yet.'}</EmptyState>
          ) : (
            <Gallery images={images} actions={canEdit ? (image) => (
              <button type="button" className="button ghost small" aria-label={`Remove image (seed ${image.seed}) from album`}
                onClick={() => void remove({ variables: { albumId: id, imageIds: [image.id] } }).catch(() => undefined)}>
                Remove
              </button>
            ) : undefined} />
          )}
        </section>
        <div className="side">
          {canEdit && <AddFromHistory albumId={id} present={new Set(images.map((i) => i.id))} />}
          {album.viewerRole === 'OWNER' && <AlbumSharing album={album} />}
        </div>
      </div>
    </div>
  );
}

import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { EmptyState, ErrorNotice } from '../components/Notice';
import { relativeTime } from '../lib/format';
import { AlbumsQuery, CreateAlbumMutation } from '../operations/albums';

/** Your albums and those shared with you, and a form to start one. */
export function AlbumsPage() {
  const navigate = useNavigate();
  const albums = useQuery(AlbumsQuery, { variables: { first: 100 } });
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [create, createState] = useMutation(CreateAlbumMutation, { refetchQueries: ['Albums'] });
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const result = await create({ variables: { name: name.trim(), description: description.trim() || null } });
      if (result.data) navigate(`/albums/${result.data.createAlbum.id}`);
    } catch {
      // Explained below.
    }
  };
  const list = albums.data?.albums.edges.map((e) => e.node) ?? [];
  return (
    <div className="stack">
      <h1>Albums</h1>
      <form className="card inline wrap" onSubmit={submit} aria-labelledby="new-album-title">
        <h2 id="new-album-title" className="h3 full">New album</h2>
        <div className="field grow">
          <label htmlFor="album-name">Name</label>
          <input id="album-name" required maxLength={120} value={name} onChange={(e) => setName(e.target.value)} placeholder="Lighthouses" />
        </div>
        <div className="field grow">
          <label htmlFor="album-description">Description (optional)</label>
          <input id="album-description" maxLength={500} value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <button type="submit" className="button primary" disabled={!name.trim() || createState.loading}>Create album</button>
        <ErrorNotice error={createState.error} />
      </form>
      <ErrorNotice error={albums.error} />
      {albums.data && list.length === 0 && <EmptyState title="No albums yet">Create one above, then add images from a finished job or your history.</EmptyState>}
      <ul className="album-grid">
        {list.map((album) => (
          <li key={album.id}>
            <Link to={`/albums/${album.id}`} className="album-tile">
              {album.cover ? <img src={album.cover.url} alt="" /> : <span className="album-empty" aria-hidden="true">No cover</span>}
              <span className="strong">{album.name}</span>
              <span className="muted small">
                {album.imageCount} image{album.imageCount === 1 ? '' : 's'} · {album.viewerRole === 'OWNER' ? 'yours' : `shared (${album.viewerRole?.toLowerCase()})`} · {relativeTime(album.updatedAt)}
              </span>
            </Link>
          </li>
        ))}
      </ul>
    </div>
  );
}

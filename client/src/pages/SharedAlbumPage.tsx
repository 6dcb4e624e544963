import { useQuery } from '@apollo/client/react';
import { useParams } from 'react-router';
import { EmptyState, ErrorNotice } from '../components/Notice';
import { SharedAlbumQuery } from '../operations/albums';

/** An album opened through a share link: read-only, no account needed. */
export function SharedAlbumPage() {
  const { token = '' } = useParams();
  // Anonymous callers have a small query budget: a modest page, then "load more".
  const { data, loading, error, fetchMore } = useQuery(SharedAlbumQuery, { variables: { token, first: 40 } });
  if (loading && !data) return <p className="loading" role="status">Loading album…</p>;
  if (error) return <ErrorNotice error={error} />;
  const album = data?.sharedAlbum;
  if (!album) return <EmptyState title="This link does not work">It may have expired or been revoked. Ask the owner for a new one.</EmptyState>;
  return (
    <div className="stack">
      <h1>{album.name}</h1>
      {album.ownerName && <p className="muted">Shared by {album.ownerName}</p>}
      {album.description && <p className="muted">{album.description}</p>}
      {album.images.edges.length === 0 && <EmptyState title="This album is empty" />}
      <ul className="gallery">
        {album.images.edges.map(({ node }) => (
          <li key={node.id} className="gallery-item">
            <a href={node.url} target="_blank" rel="noreferrer" className="thumb">
              <img src={node.url} alt={`Image from ${album.name} (seed ${node.seed})`} width={node.width} height={node.height} loading="lazy" />
            </a>
          </li>
        ))}
      </ul>
      {album.images.pageInfo.hasNextPage && (
        <button type="button" className="button" onClick={() => void fetchMore({
          variables: { after: album.images.pageInfo.endCursor },
          updateQuery: (prev, { fetchMoreResult }) => (prev.sharedAlbum && fetchMoreResult.sharedAlbum ? {
            sharedAlbum: { ...fetchMoreResult.sharedAlbum, images: { ...fetchMoreResult.sharedAlbum.images, edges: [...prev.sharedAlbum.images.edges, ...fetchMoreResult.sharedAlbum.images.edges] } },
          } : prev),
        }).catch(() => undefined)}>Load more</button>
      )}
    </div>
  );
}

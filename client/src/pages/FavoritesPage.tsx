import { useQuery } from '@apollo/client/react';
import { Link } from 'react-router';
import { Gallery } from '../components/Gallery';
import { AddToAlbum } from '../components/ImageActions';
import { EmptyState, ErrorNotice } from '../components/Notice';
import { FavoritesQuery } from '../operations/library';

/** Images you starred, newest first. */
export function FavoritesPage() {
  const { data, loading, error, fetchMore } = useQuery(FavoritesQuery, { variables: { first: 48 } });
  const images = (data?.favorites.edges ?? []).map((e) => e.node).filter((image) => image.favorited);
  return (
    <div className="stack">
      <h1>Favourites</h1>
      <ErrorNotice error={error} />
      {loading && !data && <p className="loading" role="status">Loading…</p>}
      {data && images.length === 0 && <EmptyState title="No favourites yet">Press ☆ on any image to keep it here. <Link to="/history">Browse your history</Link>.</EmptyState>}
      <Gallery images={images} actions={(image) => <AddToAlbum imageIds={[image.id]} label="Album" />} />
      {data?.favorites.pageInfo.hasNextPage && (
        <button type="button" className="button" onClick={() => void fetchMore({
          variables: { after: data.favorites.pageInfo.endCursor },
          updateQuery: (prev, { fetchMoreResult }) => ({ favorites: { ...fetchMoreResult.favorites, edges: [...prev.favorites.edges, ...fetchMoreResult.favorites.edges] } }),
        }).catch(() => undefined)}>Load more</button>
      )}
    </div>
  );
}

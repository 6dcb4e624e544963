import { useMutation, useQuery } from '@apollo/client/react';
import { useState } from 'react';
import { AddImagesToAlbumMutation } from '../operations/albums';
import { JobsQuery } from '../operations/jobs';
import { EmptyState, ErrorNotice } from './Notice';

/** Pick images from your recent finished jobs and add them to the album in one go. */
export function AddFromHistory({ albumId, present }: { albumId: string; present: Set<string> }) {
  const jobs = useQuery(JobsQuery, { variables: { first: 16, status: 'COMPLETED' } });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [add, state] = useMutation(AddImagesToAlbumMutation, { refetchQueries: ['Album', 'Albums'] });
  const candidates = (jobs.data?.jobs.edges ?? []).flatMap((e) => e.node.images.map((image) => ({ ...image, prompt: e.node.prompt })))
    .filter((image) => !present.has(image.id));
  const toggle = (id: string) => setSelected((prev) => {
    const next = new Set(prev);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    return next;
  });
  const submit = () => {
    void add({ variables: { albumId, imageIds: [...selected] } }).then(() => setSelected(new Set()), () => undefined);
  };
  return (
    <section className="card" aria-labelledby="add-history-title">
      <h2 id="add-history-title" className="h3">Add from history</h2>
      <ErrorNotice error={jobs.error ?? state.error} />
      {jobs.data && candidates.length === 0 && <EmptyState title="Nothing new to add">Your recent images are all in this album already.</EmptyState>}
      <fieldset className="picker">
        <legend className="sr-only">Images to add</legend>
        {candidates.map((image) => (
          <label key={image.id} className={`pick${selected.has(image.id) ? ' on' : ''}`}>
            <input type="checkbox" checked={selected.has(image.id)} onChange={() => toggle(image.id)} />
            <img src={image.url} alt={`${image.prompt} (seed ${image.seed})`} />
          </label>
        ))}
      </fieldset>
      {candidates.length > 0 && (
        <button type="button" className="button primary" disabled={selected.size === 0 || state.loading} onClick={submit}>
          Add {selected.size || ''} image{selected.size === 1 ? '' : 's'}
        </button>
      )}
    </section>
  );
}

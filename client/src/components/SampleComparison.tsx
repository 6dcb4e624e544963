/** The images of one save point (`TrainingRun.samples`, or a SAMPLE event), in the run's sample prompt order. */
export interface SamplePoint {
  step: number;
  samples: { prompt: string; url: string }[];
}

/**
 * The comparison gallery: a row per sample prompt, a column per save point,
 * the base model (step 0) first. Every column renders the same prompts with
 * the same seed, so what changes across a row is only the training.
 */
export function SampleComparison({ points }: { points: SamplePoint[] }) {
  const columns = [...new Map(points.map((p) => [p.step, p])).values()].sort((a, b) => a.step - b.step);
  const prompts = columns[0]?.samples.map((s) => s.prompt) ?? [];
  if (columns.length === 0) {
    return <p className="muted">Samples appear at each save point when the run has sample prompts (same prompt and seed each time, so they compare).</p>;
  }
  return (
    <div className="table-wrap">
      <table className="sample-comparison">
        <caption className="small muted">Comparison: the same prompts and seeds, base model and each checkpoint</caption>
        <thead>
          <tr>
            <th scope="col">Prompt</th>
            {columns.map((c) => <th key={c.step} scope="col">{c.step === 0 ? 'Base model' : `Step ${c.step}`}</th>)}
          </tr>
        </thead>
        <tbody>
          {prompts.map((prompt, row) => (
            <tr key={row}>
              <th scope="row" className="small">{prompt}</th>
              {columns.map((c) => {
                const sample = c.samples[row];
                return (
                  <td key={c.step}>
                    {sample && <img src={sample.url} alt={`Sample at step ${c.step}: ${sample.prompt}`} width={128} height={128} />}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

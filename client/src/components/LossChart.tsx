/**
 * A line chart of loss by step (SVG), redrawn as points arrive; the axes show
 * the ranges. `series` names what is plotted (the label, and `data-series`).
 */
export function LossChart({ points, series = 'loss' }: { points: { step: number; loss: number }[]; series?: string }) {
  const width = 480;
  const height = 160;
  if (points.length === 0) return <p className="muted">The loss appears here as the run steps.</p>;
  const maxStep = Math.max(1, ...points.map((p) => p.step));
  const losses = points.map((p) => p.loss);
  const [low, high] = [Math.min(...losses), Math.max(...losses)];
  const span = high - low || 1;
  const path = points.map((p) => `${((p.step / maxStep) * width).toFixed(1)},${(height - ((p.loss - low) / span) * height).toFixed(1)}`).join(' ');
  return (
    <svg viewBox={`-40 -10 ${width + 50} ${height + 30}`} role="img"
      aria-label={`${series[0].toUpperCase()}${series.slice(1)} over ${points.length} reports, first ${losses[0].toFixed(4)}, last ${losses.at(-1)?.toFixed(4)}`}
      data-points={points.length} data-series={series} className="loss-chart">
      <polyline points={path} fill="none" stroke="currentColor" strokeWidth={2} />
      <line x1={0} y1={height} x2={width} y2={height} stroke="gray" />
      <line x1={0} y1={0} x2={0} y2={height} stroke="gray" />
      <text x={-36} y={8} fontSize={10}>{high.toFixed(3)}</text>
      <text x={-36} y={height} fontSize={10}>{low.toFixed(3)}</text>
      <text x={width} y={height + 14} fontSize={10} textAnchor="end">step {maxStep}</text>
    </svg>
  );
}

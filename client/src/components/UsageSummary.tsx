import type { UsageQuery } from '../gql/graphql';

/** The caller's tier, its limits and what is used today, in one glance. */
export function UsageSummary({ usage }: { usage: UsageQuery['usage'] | undefined }) {
  if (!usage) return null;
  const { limits } = usage;
  return (
    <aside className="usage card" aria-labelledby="usage-title">
      <h2 id="usage-title" className="h3">Your {usage.tier} tier</h2>
      <ul className="usage-list">
        <li>Up to <strong>{limits.maxWidth} × {limits.maxHeight}</strong> pixels</li>
        <li>Up to <strong>{limits.maxSteps}</strong> steps, <strong>{limits.maxCount}</strong> images per job, <strong>{limits.maxLoras}</strong> LoRA{limits.maxLoras === 1 ? '' : 's'}</li>
        <li><strong>{usage.openJobs}</strong> of {limits.maxOpenJobs} jobs running or queued</li>
        <li>
          <strong>{usage.imagesToday}</strong>
          {limits.imagesPerDay != null ? ` of ${limits.imagesPerDay}` : ''} images today
          {limits.imagesPerDay == null && ' (unlimited)'}
        </li>
      </ul>
    </aside>
  );
}

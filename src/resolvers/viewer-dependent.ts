import { Extensions } from 'type-graphql';

/** The field extension that marks a viewer-dependent field (read by subscriptions/viewer-dependence.ts). */
export const VIEWER_DEPENDENT = 'viewerDependent';

/**
 * Marks a field whose value depends on who asks (their id, role, tier or
 * memberships), not only on the record: `Session.myRole`, `Image.favorited`,
 * `Lora.mine`, `Job.session`, … Subscriptions share one execution per event
 * among subscribers of the same document unless it reaches such a field, so
 * every field resolver that reads `ctx.viewer` carries this mark
 * (test/unit/viewer-dependence.test.ts checks that none is missing).
 */
export const ViewerDependent = () => Extensions({ [VIEWER_DEPENDENT]: true });

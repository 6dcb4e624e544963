// Moved to src/kernel/ (events.ts, queues.ts); this re-export goes once every import points there.
export * from '../kernel/events';
export { GENERATION_QUEUE, type GenerationJobData } from '../kernel/queues';

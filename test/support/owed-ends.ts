import { createLogger } from '../../src/observability/logger';
import { OwedEnds } from '../../src/services/owed-ends';

/**
 * Ends owed by a process that is gone: never told again. For a lifecycle
 * standing in for an API replica that died after an ending it could not tell,
 * so that only the other repairs (a cancel asked again, a reconnection) can.
 */
export function forgottenEnds<Row extends { id: string }>(): OwedEnds<Row> {
  const owed = new OwedEnds<Row>({ what: 'end', finalAmong: async () => [], announceEnd: async () => undefined, logger: createLogger({ level: 'silent' }) });
  owed.stop();
  return owed;
}

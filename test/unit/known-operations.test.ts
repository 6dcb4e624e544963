import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KNOWN_OPERATIONS_FILE, clientOperationNames, knownOperationsModule } from '../../scripts/print-known-operations';

describe('known operation names', () => {
  it('src/observability/known-operations.ts lists the client\'s operations (run `npm run operations:print`)', () => {
    const names = clientOperationNames();
    expect(names).toContain('CreateGeneration');
    expect(readFileSync(KNOWN_OPERATIONS_FILE, 'utf8')).toBe(knownOperationsModule(names));
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderLimits } from '../../scripts/limits-doc';

describe('docs/limits.md', () => {
  it('matches the code\'s defaults (run `npm run limits:print`)', () => {
    const committed = readFileSync(path.resolve(__dirname, '../../docs/limits.md'), 'utf8');
    expect(committed).toBe(renderLimits());
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderLimits } from '../../scripts/limits-doc';
import { TIER_POLICY_BOUNDS } from '../../src/services/tier-policy-bounds';

describe('docs/limits.md', () => {
  it('matches the code\'s defaults (run `npm run limits:print`)', () => {
    const committed = readFileSync(path.resolve(__dirname, '../../docs/limits.md'), 'utf8');
    expect(committed).toBe(renderLimits());
  });
});

describe('docs/request-limits.md, "Tier policies"', () => {
  it('gives the bounds of every field updateTierPolicy takes, as the code has them', () => {
    const doc = readFileSync(path.resolve(__dirname, '../../docs/request-limits.md'), 'utf8');
    const table = doc.slice(doc.indexOf('## Tier policies'));
    const n = (value: number) => value.toLocaleString('en-US');
    for (const [field, { min, max }] of Object.entries(TIER_POLICY_BOUNDS)) {
      const line = table.split('\n').find((l) => l.startsWith('| ') && l.split('|')[1].includes(`\`${field}\``));
      expect(line, field).toBeDefined();
      expect(line, field).toMatch(new RegExp(`\\b${n(min)}\\b[^|]* to ${n(max)}\\b`));
    }
  });
});

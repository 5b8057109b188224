/** The chart's README is generated from values.yaml (helm-docs style) and committed up to date. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chartReadme, chartReadmeFile } from '@quickdeal/dev/chart-readme';

describe('charts/quickdeal/README.md', () => {
  it('is what values.yaml generates (run `npm run docs:chart` when this fails)', () => {
    expect(readFileSync(chartReadmeFile, 'utf8')).toBe(chartReadme());
  });

  it('lists every documented value with its default', () => {
    const readme = chartReadme();
    expect(readme).toContain('| `httpRoute.parentRefs` | `[]` |');
    expect(readme).toContain('| `ingress.enabled` | `false` |');
    expect(readme).toContain('| `operator.dealClass` | `""` |');
  });
});

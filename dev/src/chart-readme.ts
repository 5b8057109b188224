/**
 * charts/quickdeal/README.md, generated from values.yaml as helm-docs does it: every key documented
 * with a `# --` comment becomes a row (key, default, description); maps without one are sections
 * and their keys are listed instead. `npm run docs:chart` writes it; a unit test (readme.test.ts)
 * fails when the committed file is stale, so CI checks it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isScalar, parseDocument, type YAMLMap } from 'yaml';
import { repoRoot } from './paths.js';

export const chartReadmeFile = join(repoRoot, 'charts', 'quickdeal', 'README.md');

interface Row {
  key: string;
  value: unknown;
  description: string;
}

function documentation(comment: string | undefined): string | undefined {
  const match = /(?:^|\n)\s*-- ([\s\S]*)$/.exec(comment ?? '');
  return match?.[1]?.replace(/\s*\n\s*/g, ' ').trim();
}

function rows(map: YAMLMap, prefix: string, mapComment: string | undefined, out: Row[]): Row[] {
  for (const [index, pair] of map.items.entries()) {
    const name = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const key = prefix ? `${prefix}.${name}` : name;
    // The parser gives the comment above a map's first key to the map itself.
    const comment = [index === 0 ? mapComment : '', (pair.key as { commentBefore?: string }).commentBefore ?? ''].join('\n');
    const description = documentation(comment);
    if (description === undefined && isMap(pair.value)) rows(pair.value, key, pair.value.commentBefore ?? undefined, out);
    else out.push({ key, value: (pair.value as { toJSON?: () => unknown })?.toJSON?.() ?? null, description: description ?? '' });
  }
  return out;
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

export function chartReadme(): string {
  const chartDir = join(repoRoot, 'charts', 'quickdeal');
  const chart = parseDocument(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')).toJSON() as {
    description: string;
    version: string;
    appVersion: string;
  };
  const values = parseDocument(readFileSync(join(chartDir, 'values.yaml'), 'utf8'));
  const table = rows(values.contents as YAMLMap, '', (values.contents as YAMLMap).commentBefore ?? undefined, []).map(
    (row) => `| \`${row.key}\` | \`${cell(JSON.stringify(row.value))}\` | ${cell(row.description)} |`,
  );
  return [
    '# quickdeal',
    '',
    '<!-- Generated from Chart.yaml and values.yaml by dev/src/chart-readme.ts: run `npm run docs:chart`. -->',
    '',
    chart.description,
    '',
    `Chart version ${chart.version}, app version ${chart.appVersion}. Installing, upgrading and the production path (Gateway API) are in [docs/deploy.md](../../docs/deploy.md).`,
    '',
    '## Values',
    '',
    '| key | default | description |',
    '|---|---|---|',
    ...table,
    '',
  ].join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '') && process.argv.includes('--write')) {
  writeFileSync(chartReadmeFile, chartReadme());
  console.log(`wrote ${chartReadmeFile}`);
}

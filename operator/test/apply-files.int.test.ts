/**
 * `quickdeal apply -f` without Kubernetes: QuickDeal YAML goes through the operator's own
 * reconcile of a deal (deal-reconciler.ts) into the test profile's Kafka, Redis and Postgres.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { QuickDealFileError, applyQuickDealFiles, listLocalDeals, withLocalRegistry } from '@quickdeal/operator';
import { endpoints } from '@quickdeal/dev/profiles';
import { uniqueName } from '@quickdeal/dev/testing';

const dir = mkdtempSync(join(tmpdir(), 'qd-apply-'));
const target = { ...endpoints('test'), topicPrefix: `qdtest.${uniqueName('apply').replace(/-/g, '')}.` };
const names = [uniqueName('apply-open'), uniqueName('apply-later')];

afterAll(async () => {
  await withLocalRegistry(target, async (registry) => {
    for (const name of names) await registry.remove(name, { deleteTopic: true });
  });
  rmSync(dir, { recursive: true, force: true });
});

function writeDeals(file: string, stock: number): string {
  const path = join(dir, file);
  writeFileSync(
    path,
    `apiVersion: quickdeal.io/v1alpha1
kind: QuickDeal
metadata: { name: ${names[0]} }
spec:
  product: { name: "Phone", price: 1000, currency: KRW }
  stock: ${stock}
  opensAt: "2026-01-01T00:00:00+09:00"
---
apiVersion: quickdeal.io/v1alpha1
kind: QuickDeal
metadata: { name: ${names[1]} }
spec:
  product: { name: "Tablet", price: 2000, currency: KRW }
  stock: 3
  opensAt: "2099-01-01T00:00:00Z"
  admission: { maxActiveShoppers: 2 }
`,
  );
  return path;
}

describe('quickdeal apply -f (no Kubernetes)', () => {
  it('creates each deal’s topic and settings, and applying again changes only what changed', async () => {
    const first = await applyQuickDealFiles([writeDeals('deals.yaml', 5)], target);
    expect(first.map((deal) => [deal.dealId, deal.topicCreated, deal.settings.stock])).toEqual([
      [names[0], true, 5],
      [names[1], true, 3],
    ]);
    const again = await applyQuickDealFiles([writeDeals('deals.yaml', 8)], target);
    expect(again.map((deal) => [deal.topicCreated, deal.settings.stock, deal.stockClamped])).toEqual([
      [false, 8, false],
      [false, 3, false],
    ]);

    const listed = (await listLocalDeals(target)).filter((deal) => names.includes(deal.dealId));
    expect(listed.map((deal) => [deal.dealId, deal.phase, deal.stock, deal.cap])).toEqual(
      [
        [names[0], 'Open', 8, 1000],
        [names[1], 'Scheduled', 3, 2],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
  });

  it('refuses a file with an invalid QuickDeal, naming the file, the document and the field', async () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(
      path,
      `apiVersion: quickdeal.io/v1alpha1\nkind: QuickDeal\nmetadata: { name: bad }\nspec:\n  product: { name: P, price: 1, currency: KRW }\n  stock: -1\n  opensAt: "2026-01-01T00:00:00Z"\n`,
    );
    const error = await applyQuickDealFiles([path], target).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(QuickDealFileError);
    expect((error as Error).message).toMatch(/bad\.yaml \(document 1\): spec\.stock: /);
  });
});

import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { formatDuration, topicForDeal } from '@quickdeal/core';
import { applyQuickDealFiles, withLocalRegistry, type LocalTarget } from '@quickdeal/operator';

export interface LoadDeal {
  dealId: string;
  topic: string;
  manifest: string;
  /** Applies the deal again with `paused: true`: admission stops, the line keeps its order. */
  pause(): Promise<void>;
}

/** A fresh deal id for a run: `lt-<name>-<random>`, a valid QuickDeal name. */
export function freshDealId(name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'run';
  return `lt-${slug}-${randomBytes(3).toString('hex')}`;
}

/**
 * Writes the run's QuickDeal as YAML next to its report and applies it with the operator's own
 * code (`quickdeal apply -f`): open from a second ago, so the sale starts with the first arrival.
 */
export async function createLoadDeal(
  target: LocalTarget,
  outDir: string,
  dealId: string,
  deal: { stock: number; cap: number; windowMs: number; ticketTtlMs: number; paused?: boolean; product?: string },
): Promise<LoadDeal> {
  const manifest = join(outDir, `${dealId}.yaml`);
  const document = {
    apiVersion: 'quickdeal.io/v1alpha1',
    kind: 'QuickDeal',
    metadata: { name: dealId },
    spec: {
      product: { name: deal.product ?? `Load test ${dealId}`, price: 1_550_000, currency: 'KRW' },
      stock: deal.stock,
      opensAt: new Date(Date.now() - 1_000).toISOString(),
      admission: { maxActiveShoppers: deal.cap, checkoutWindow: formatDuration(deal.windowMs) },
      queue: { ticketTTL: formatDuration(deal.ticketTtlMs) },
      paused: deal.paused ?? false,
    },
  };
  writeFileSync(manifest, `# Applied by the load test (npm run loadtest / bench)\n${stringify(document)}`);
  await applyQuickDealFiles([manifest], target);
  return {
    dealId,
    topic: topicForDeal(dealId, target.topicPrefix),
    manifest,
    async pause() {
      const paused = manifest.replace(/\.yaml$/, '.paused.yaml');
      writeFileSync(paused, `# The same deal, paused at the end of the run\n${stringify({ ...document, spec: { ...document.spec, paused: true } })}`);
      await applyQuickDealFiles([paused], target);
    },
  };
}

/**
 * Removes the deals' Redis state (orders stay in Postgres) but keeps their topics: deleting a topic
 * breaks every running kafkajs producer that once wrote to it (tulios/kafkajs#1622), so ticketing
 * would answer 503 for every deal until restarted.
 */
export async function removeLoadDeals(target: LocalTarget, dealIds: string[]): Promise<void> {
  await withLocalRegistry(target, async (registry) => {
    for (const dealId of dealIds) await registry.remove(dealId, { deleteTopic: false });
  });
}

import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import type { Kafka } from 'kafkajs';
import { formatDuration, topicForDeal } from '@quickdeal/core';
import { applyQuickDealFiles, withLocalRegistry, type LocalTarget } from '@quickdeal/operator';

export interface LoadDeal {
  dealId: string;
  topic: string;
  manifest: string;
  /** Applies the deal again with `paused: true`: admission stops, the line keeps its order. */
  pause(): Promise<void>;
  /** Ends the deal for good, leaving nothing that costs the running services anything (see retireLoadDeals). */
  retire(): Promise<void>;
}

/** A fresh deal id for a run: `lt-<name>-<random>`, a valid QuickDeal name. */
export function freshDealId(name: string): string {
  const slug =
    name
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'run';
  return `lt-${slug}-${randomBytes(3).toString('hex')}`;
}

/**
 * Writes the run's QuickDeal as YAML next to its report and applies it with the operator's own
 * code (`quickdeal apply -f`): open from a second ago, so the sale starts with the first arrival,
 * unless it is given its own opening (with a pre-queue from `prequeueMs` before it).
 */
export async function createLoadDeal(
  target: LocalTarget,
  outDir: string,
  dealId: string,
  deal: {
    stock: number;
    cap: number;
    windowMs: number;
    ticketTtlMs: number;
    paused?: boolean;
    product?: string;
    /** Epoch ms; a second ago when not given. */
    opensAt?: number;
    prequeueMs?: number;
    /** spec.queue.proofOfWork's difficulty (0 or absent: none). */
    proofOfWork?: number;
  },
): Promise<LoadDeal> {
  const manifest = join(outDir, `${dealId}.yaml`);
  const document = {
    apiVersion: 'quickdeal.io/v1alpha1',
    kind: 'QuickDeal',
    metadata: { name: dealId },
    spec: {
      product: { name: deal.product ?? `Load test ${dealId}`, price: 1_550_000, currency: 'KRW' },
      stock: deal.stock,
      opensAt: new Date(deal.opensAt ?? Date.now() - 1_000).toISOString(),
      admission: { maxActiveShoppers: deal.cap, checkoutWindow: formatDuration(deal.windowMs) },
      queue: {
        ticketTTL: formatDuration(deal.ticketTtlMs),
        ...(deal.prequeueMs ? { prequeue: formatDuration(deal.prequeueMs) } : {}),
        ...(deal.proofOfWork ? { proofOfWork: { difficulty: deal.proofOfWork } } : {}),
      },
      paused: deal.paused ?? false,
    },
  };
  writeFileSync(manifest, `# Applied by the load test (npm run loadtest / bench)\n${stringify(document)}`);
  await applyQuickDealFiles([manifest], target);
  const reapply = async (suffix: string, comment: string, spec: Partial<typeof document.spec>) => {
    const file = manifest.replace(/\.yaml$/, `.${suffix}.yaml`);
    writeFileSync(file, `# ${comment}\n${stringify({ ...document, spec: { ...document.spec, ...spec } })}`);
    await applyQuickDealFiles([file], target);
  };
  return {
    dealId,
    topic: topicForDeal(dealId, target.topicPrefix),
    manifest,
    pause: () => reapply('paused', 'The same deal, paused at the end of the run', { paused: true }),
    retire: () => reapply('retired', 'The same deal, retired after the run: stock down to what was sold', { stock: 0, paused: false }),
  };
}

/**
 * Cleans up after a run without leaving work behind for the running services. A deal's topic is
 * kept: deleting a topic breaks every running kafkajs producer that once wrote to it
 * (tulios/kafkajs#1622), so ticketing would answer 503 for every deal until restarted. Instead each
 * deal is sold out (stock lowered to what was sold; Postgres keeps it), the admission consumers
 * mark the rest of its line sold out and commit past its last message, and then its Redis state
 * goes: a topic read to its end costs the consumers nothing more.
 */
export async function retireLoadDeals(
  target: LocalTarget,
  kafka: Kafka,
  deals: LoadDeal[],
  log: (line: string) => void,
  groupId = 'quickdeal-admission',
): Promise<void> {
  for (const deal of deals) await deal.retire();
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + 120_000;
    for (const deal of deals) {
      for (;;) {
        const high = Number((await admin.fetchTopicOffsets(deal.topic)).find((p) => p.partition === 0)?.high ?? 0);
        const committed = Number(
          (await admin.fetchOffsets({ groupId, topics: [deal.topic] }))[0]?.partitions.find((p) => p.partition === 0)?.offset ?? -1,
        );
        if (committed >= high) break;
        if (Date.now() > deadline) {
          log(
            `${deal.dealId}: its line did not drain within 2 minutes; removing it anyway (the admission consumers will keep skipping it)`,
          );
          break;
        }
        await sleep(250);
      }
    }
  } finally {
    await admin.disconnect();
  }
  await withLocalRegistry(target, async (registry) => {
    for (const deal of deals) await registry.remove(deal.dealId, { deleteTopic: false });
  });
}

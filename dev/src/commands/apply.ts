import { resolve } from 'node:path';
import { applyQuickDealFiles } from '@quickdeal/operator';
import { endpoints } from '../profiles.js';
import type { Command } from './command.js';

export const apply: Command = {
  summary: 'apply QuickDeal YAML to the local stack, with the operator’s own deal registry (no Kubernetes)',
  usage: 'apply -f <file> [-f <file> …]',
  options: { filename: { type: 'string', short: 'f', multiple: true } },
  async run({ profile, values }) {
    const files = (values.filename as string[] | undefined) ?? [];
    if (files.length === 0) {
      console.error('quickdeal apply: name at least one file with -f');
      return 2;
    }
    const applied = await applyQuickDealFiles(
      files.map((f) => resolve(f)),
      endpoints(profile),
    );
    for (const deal of applied) {
      const notes = [deal.topicCreated ? 'topic created' : 'topic exists'];
      if (deal.stockClamped) notes.push(`stock kept at ${deal.settings.stock}: ${deal.sold} already sold`);
      console.log(`quickdeal.quickdeal.io/${deal.dealId} configured (${notes.join('; ')})`);
    }
    return 0;
  },
};

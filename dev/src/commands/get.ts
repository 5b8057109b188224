import { listLocalDeals } from '@quickdeal/operator';
import { endpoints } from '../profiles.js';
import { formatTable } from '../table.js';
import type { Command } from './command.js';

function age(since: number): string {
  const seconds = Math.max(0, Math.round((Date.now() - since) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

export const get: Command = {
  summary: 'list the local deals and their status, like `kubectl get qd`',
  usage: 'get deals',
  async run({ profile, positionals }) {
    if (!['deals', 'deal', 'qd', 'quickdeals'].includes(positionals[0] ?? '')) {
      console.error('quickdeal get: the only resource is `deals`');
      return 2;
    }
    const deals = await listLocalDeals(endpoints(profile));
    if (deals.length === 0) {
      console.log('No deals. Apply one with: quickdeal apply -f manifests/samples/demo-deal.yaml');
      return 0;
    }
    console.log(
      formatTable([
        ['NAME', 'PHASE', 'STOCK', 'SOLD', 'WAITING', 'ACTIVE', 'OPENS'],
        ...deals.map((d) => [
          d.dealId,
          d.phase,
          String(d.stock),
          String(d.sold),
          String(d.waiting),
          `${d.active}/${d.cap}`,
          d.opensAt > Date.now() ? `in ${age(2 * Date.now() - d.opensAt)}` : `${age(d.opensAt)} ago`,
        ]),
      ]),
    );
    return 0;
  },
};

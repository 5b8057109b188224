import { dealIdPattern, errors, type DealCache, type DealSnapshot, type HeaderReader } from '@quickdeal/core';

/** The deal a request names, from the deal cache; 404 when there is no such deal. */
export async function dealOf(cache: DealCache, dealId: string): Promise<DealSnapshot> {
  const deal = dealIdPattern.test(dealId) ? await cache.get(dealId) : undefined;
  if (!deal) throw errors.notFound('DEAL_NOT_FOUND', `There is no deal "${dealId}"`);
  return deal;
}

/** The client's address, for the per-client limit: X-Forwarded-For's first hop when the proxy in front is trusted. */
export function clientAddress(header: HeaderReader, remoteAddress: string | undefined, trustProxy: boolean): string | undefined {
  if (trustProxy) {
    const forwarded = header('X-Forwarded-For')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  return remoteAddress;
}

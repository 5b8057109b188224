/**
 * The public paths and the service behind each, exactly as the chart's Ingress routes them.
 * The local gateway follows this table; the chart's tests check its Ingress against it.
 */
export type Upstream = 'ticketing' | 'payment';

export interface PublicRoute {
  /** A regular expression over the path, as the ingress controller's regex paths take it. */
  path: string;
  upstream: Upstream;
}

export const publicRoutes: PublicRoute[] = [
  { path: '^/api/v1/deals/[^/]+/(checkout|orders)(/.*)?$', upstream: 'payment' },
  { path: '^/api/v1/deals/[^/]+/(tickets|prequeue|draw|challenge)(/.*)?$', upstream: 'ticketing' },
  { path: '^/deals(/.*)?$', upstream: 'ticketing' },
  { path: '^/\\.well-known/jwks\\.json$', upstream: 'ticketing' },
];

const compiled = publicRoutes.map((route) => ({ pattern: new RegExp(route.path), upstream: route.upstream }));

export function upstreamFor(path: string): Upstream | undefined {
  return compiled.find((route) => route.pattern.test(path))?.upstream;
}

/**
 * The official Gateway API CRDs (standard channel) for the chart's tests, from the Go module proxy:
 * the module sigs.k8s.io/gateway-api carries them under config/crd/standard (go-module-crds.ts).
 */
import { ensureGoModuleCrds } from './go-module-crds.js';

/** v1.7 needs a newer Go than the machine's; 1.6.3 is served by the proxy (docs/PLATFORM facts). */
export const gatewayApiVersion = '1.6.3';

/** The directory holding the standard channel's CRD files; downloads them on the first call. */
export function ensureGatewayApiCrds(): Promise<string> {
  return ensureGoModuleCrds({
    name: 'gateway-api',
    module: 'sigs.k8s.io/gateway-api',
    version: gatewayApiVersion,
    directory: 'config/crd/standard',
  });
}

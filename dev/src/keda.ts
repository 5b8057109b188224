/**
 * KEDA's ScaledObject CRD for the chart's tests (the optional admission scaler), from the Go module
 * proxy: the module github.com/kedacore/keda/v2 carries it under config/crd/bases (go-module-crds.ts).
 */
import { ensureGoModuleCrds } from './go-module-crds.js';

export const kedaVersion = '2.21.0';

/** The directory holding keda.sh_scaledobjects.yaml; downloads it on the first call. */
export function ensureKedaCrds(): Promise<string> {
  return ensureGoModuleCrds({
    name: 'keda',
    module: 'github.com/kedacore/keda/v2',
    version: kedaVersion,
    directory: 'config/crd/bases',
    files: ['keda.sh_scaledobjects.yaml'],
  });
}

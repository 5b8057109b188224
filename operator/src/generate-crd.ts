/** Writes the CRD generated from the spec schema to manifests/crd/ and the chart's crds/ (`npm run generate -w operator`). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crdManifestFile, quickDealCrdYaml } from './api/v1alpha1/crd.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
for (const file of [crdManifestFile, crdManifestFile.replace(/^manifests\/crd\//, 'charts/quickdeal/crds/')]) {
  mkdirSync(dirname(join(repoRoot, file)), { recursive: true });
  writeFileSync(join(repoRoot, file), quickDealCrdYaml());
  console.log(`wrote ${file}`);
}

/** Writes the CRD generated from the spec schema to manifests/crd/ (`npm run generate -w operator`). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crdManifestFile, quickDealCrdYaml } from './api/v1alpha1/crd.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const file = join(repoRoot, crdManifestFile);
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, quickDealCrdYaml());
console.log(`wrote ${crdManifestFile}`);

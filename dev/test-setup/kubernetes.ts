/**
 * vitest globalSetup of the `kubernetes` project: Kafka, Redis and Postgres of the `test` profile,
 * and its Kubernetes control plane with a fake node, so pods become Running (the first run builds
 * the binaries: ~10 min, then cached). Tests read how to reach it with `inject('kubernetes')`.
 * Everything stays running, so the next run starts in seconds; `quickdeal down --profile test` stops it.
 */
import type { TestProject } from 'vitest/node';
import { type Kubernetes, ensureKubernetes } from '../src/kubernetes.js';
import { ensureInfra } from '../src/stack.js';
import { recordSetupFailure } from './setup-failure.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kubernetes: Kubernetes;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  await recordSetupFailure(async () => {
    const [kubernetes] = await Promise.all([ensureKubernetes('test', { withNodes: true }), ensureInfra('test')]);
    project.provide('kubernetes', kubernetes);
  });
}

import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Where tests live; the file name says what a test needs (see the projects below).
const TEST_ROOTS = ['services/*/test', 'operator/test', 'loadtest/test', 'dev/test', 'charts/**/test'];
const files = (suffix: string) => TEST_ROOTS.map((root) => `${root}/**/*${suffix}`);
const NEEDS_SERVERS = ['.int.test.ts', '.k8s.test.ts', '.browser.test.ts', '.cluster.test.ts', '.image.test.ts'];

// Workspace packages resolve to their TypeScript sources, as with `node --conditions=quickdeal-source`.
const SERVER_CONDITIONS = ['quickdeal-source', 'module', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions: SERVER_CONDITIONS },
  ssr: { resolve: { conditions: SERVER_CONDITIONS, externalConditions: ['quickdeal-source', 'node'] } },
  test: {
    testTimeout: 60_000,
    // An assertion's message shows the values it compared (chai cuts them at 40 characters by default),
    // so the failure list at the end of `npm test` says what differed.
    chaiConfig: { truncateThreshold: 400 },
    hookTimeout: 120_000,
    // Integration tests mostly wait on the servers: two files at a time even on two cores (vitest's default is cores - 1).
    maxWorkers: Math.max(2, availableParallelism()),
    projects: [
      // The cluster profile's tests (3 Kafka brokers, Redis Cluster, two processes per service, faults)
      // time the stalls their faults cause, so `npm test` runs them in a second vitest run of their
      // own, with QUICKDEAL_CLUSTER_TESTS=1 (dev/bootstrap.mjs); `npm run test:cluster` runs them alone.
      ...(process.env.QUICKDEAL_CLUSTER_TESTS === '1'
        ? [
            {
              extends: true as const,
              test: {
                name: 'cluster',
                include: files('.cluster.test.ts'),
                globalSetup: ['dev/test-setup/cluster.ts'],
                testTimeout: 240_000,
                hookTimeout: 300_000,
              },
            },
          ]
        : []),
      // The Dockerfile built into real images with buildah and each run with runc (root, and minutes
      // for a first build): the last pass of `npm test`, or alone `npm run test:images` (QUICKDEAL_IMAGE_TESTS=1).
      ...(process.env.QUICKDEAL_IMAGE_TESTS === '1'
        ? [
            {
              extends: true as const,
              test: {
                name: 'images', // the kubernetes project's servers: the operator's image needs an API server
                include: files('.image.test.ts'),
                globalSetup: ['dev/test-setup/kubernetes.ts'],
                testTimeout: 180_000,
                hookTimeout: 2_400_000,
              },
            },
          ]
        : []),
      {
        extends: true,
        test: {
          name: 'unit', // no servers
          include: files('.test.ts'),
          exclude: ['**/node_modules/**', ...NEEDS_SERVERS.map((suffix) => `**/*${suffix}`)],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration', // Kafka, Redis and Postgres of the test profile, shared by all files
          include: files('.int.test.ts'),
          globalSetup: ['dev/test-setup/infra.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'kubernetes', // the infrastructure plus a local Kubernetes API server
          include: files('.k8s.test.ts'),
          globalSetup: ['dev/test-setup/kubernetes.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'browser', // the infrastructure plus Chromium
          include: files('.browser.test.ts'),
          globalSetup: ['dev/test-setup/browser.ts'],
        },
      },
    ],
  },
});

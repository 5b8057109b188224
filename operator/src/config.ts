import { hostname } from 'node:os';
import { z } from 'zod';
import { commonConfigSchema, flag } from '@quickdeal/core';
import type { OperatorOptions } from './operator.js';

const seconds = (fallback: number) => z.coerce.number().positive().default(fallback);
const count = (fallback: number) => z.coerce.number().int().min(0).default(fallback);
const optionalText = z
  .string()
  .optional()
  .transform((value) => (value?.trim() ? value.trim() : undefined));
const kubernetesName = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Kubernetes name');

/** The operator's configuration, from the environment (see docs/operator.md for the table). */
export const operatorConfigSchema = commonConfigSchema
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(8084),
    KAFKA_CLIENT_ID: z.string().default('quickdeal-operator'),
    KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).default(1),
    KAFKA_MIN_INSYNC_REPLICAS: z.coerce.number().int().min(1).default(1),
    /** Read by @kubernetes/client-node: a kubeconfig file, else the in-cluster ServiceAccount. */
    KUBECONFIG: optionalText,
    POD_NAME: optionalText,
    POD_NAMESPACE: z.string().default('quickdeal-system'),
    WATCH_NAMESPACE: optionalText,
    DEAL_CLASS: z
      .string()
      .optional()
      .transform((value) => (value?.trim() ? value.trim() : undefined))
      .pipe(
        z
          .string()
          .regex(/^[a-z0-9]([-a-z0-9_.]{0,61}[a-z0-9])?$/, 'must be a label value')
          .optional(),
      ),
    WORKERS: z.coerce.number().int().min(1).max(32).default(2),
    RESYNC_SECONDS: seconds(10),
    LEADER_ELECT: flag(true),
    LEASE_NAME: kubernetesName.default('quickdeal-operator'),
    LEASE_NAMESPACE: optionalText,
    LEASE_DURATION_SECONDS: seconds(15),
    RENEW_DEADLINE_SECONDS: seconds(10),
    RETRY_PERIOD_SECONDS: seconds(2),
    PROMETHEUS_URL: z.string().url().optional(),
    /** false: something else (KEDA, a fixed count) owns the admission replicas. */
    SCALE_ADMISSION: flag(true),
    PROMETHEUS_SELECTOR: optionalText,
    ADMISSION_DEPLOYMENT: kubernetesName.default('quickdeal-admission'),
    ADMISSION_NAMESPACE: optionalText,
    SCALING_INTERVAL_SECONDS: seconds(15),
    SCALING_MIN_REPLICAS: count(1),
    SCALING_MAX_REPLICAS: count(10),
    SCALING_TARGET_WAITING_PER_REPLICA: z.coerce.number().int().min(1).default(1000),
    SCALING_ACTIVATION_WAITING: count(0),
    SCALING_SCALE_DOWN_STABILIZATION_SECONDS: z.coerce.number().min(0).default(300),
    TICKETING_HPA: kubernetesName.optional(),
    TICKETING_NAMESPACE: optionalText,
    TICKETING_RUSH_MIN_REPLICAS: count(0),
    TICKETING_RUSH_LEAD_SECONDS: z.coerce.number().min(0).default(300),
    TICKETING_RUSH_HOLD_SECONDS: z.coerce.number().min(0).default(900),
  })
  .superRefine((config, ctx) => {
    if (config.SCALING_MIN_REPLICAS > config.SCALING_MAX_REPLICAS) {
      ctx.addIssue({
        code: 'custom',
        path: ['SCALING_MIN_REPLICAS'],
        message: `must not be above SCALING_MAX_REPLICAS (${config.SCALING_MAX_REPLICAS})`,
      });
    }
    if (config.RENEW_DEADLINE_SECONDS >= config.LEASE_DURATION_SECONDS) {
      ctx.addIssue({
        code: 'custom',
        path: ['RENEW_DEADLINE_SECONDS'],
        message: `must be below LEASE_DURATION_SECONDS (${config.LEASE_DURATION_SECONDS})`,
      });
    }
    if (config.RETRY_PERIOD_SECONDS >= config.RENEW_DEADLINE_SECONDS) {
      ctx.addIssue({
        code: 'custom',
        path: ['RETRY_PERIOD_SECONDS'],
        message: `must be below RENEW_DEADLINE_SECONDS (${config.RENEW_DEADLINE_SECONDS})`,
      });
    }
  })
  .transform((config) => ({
    ...config,
    identity: config.POD_NAME ?? `${hostname()}-${process.pid}`,
    leaseNamespace: config.LEASE_NAMESPACE ?? config.POD_NAMESPACE,
    admissionNamespace: config.ADMISSION_NAMESPACE ?? config.POD_NAMESPACE,
    ticketingNamespace: config.TICKETING_NAMESPACE ?? config.POD_NAMESPACE,
  }));

export type OperatorConfig = z.output<typeof operatorConfigSchema>;

/** What the configuration means for the operator's parts. */
export function operatorOptionsFrom(config: OperatorConfig): OperatorOptions {
  return {
    identity: config.identity,
    controller: {
      ...(config.WATCH_NAMESPACE ? { namespace: config.WATCH_NAMESPACE } : {}),
      ...(config.DEAL_CLASS ? { dealClass: config.DEAL_CLASS } : {}),
      resyncMs: config.RESYNC_SECONDS * 1000,
      workers: config.WORKERS,
      backoff: { baseDelayMs: 200, maxDelayMs: 60_000 },
    },
    ...(config.LEADER_ELECT
      ? {
          leaderElection: {
            namespace: config.leaseNamespace,
            name: config.LEASE_NAME,
            leaseDurationMs: config.LEASE_DURATION_SECONDS * 1000,
            renewDeadlineMs: config.RENEW_DEADLINE_SECONDS * 1000,
            retryPeriodMs: config.RETRY_PERIOD_SECONDS * 1000,
          },
        }
      : {}),
    ...(config.PROMETHEUS_URL && config.SCALE_ADMISSION
      ? {
          scaling: {
            prometheusUrl: config.PROMETHEUS_URL,
            ...(config.PROMETHEUS_SELECTOR ? { metricSelector: config.PROMETHEUS_SELECTOR } : {}),
            namespace: config.admissionNamespace,
            deployment: config.ADMISSION_DEPLOYMENT,
            intervalMs: config.SCALING_INTERVAL_SECONDS * 1000,
            minReplicas: config.SCALING_MIN_REPLICAS,
            maxReplicas: config.SCALING_MAX_REPLICAS,
            targetPerReplica: config.SCALING_TARGET_WAITING_PER_REPLICA,
            activationThreshold: config.SCALING_ACTIVATION_WAITING,
            scaleDownStabilizationMs: config.SCALING_SCALE_DOWN_STABILIZATION_SECONDS * 1000,
          },
        }
      : {}),
    ...(config.TICKETING_HPA && config.TICKETING_RUSH_MIN_REPLICAS > 0
      ? {
          ticketingRush: {
            namespace: config.ticketingNamespace,
            hpa: config.TICKETING_HPA,
            intervalMs: config.SCALING_INTERVAL_SECONDS * 1000,
            minReplicas: config.TICKETING_RUSH_MIN_REPLICAS,
            leadMs: config.TICKETING_RUSH_LEAD_SECONDS * 1000,
            holdMs: config.TICKETING_RUSH_HOLD_SECONDS * 1000,
          },
        }
      : {}),
  };
}

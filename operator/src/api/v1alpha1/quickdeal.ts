import { z } from 'zod';
import { dealIdSchema, quickDealSpecSchema, type DealPhase, type QuickDealSpec } from '@quickdeal/core';

export const group = 'quickdeal.io';
export const version = 'v1alpha1';
export const apiVersion = `${group}/${version}`;
export const kind = 'QuickDeal';
export const plural = 'quickdeals';
export const singular = 'quickdeal';
export const shortName = 'qd';

/** Held on every QuickDeal the operator serves, so deleting one first stops its admissions and removes its Redis keys. */
export const quickDealFinalizer = 'quickdeal.io/cleanup';

/** A QuickDeal document as kubectl or `quickdeal apply -f` reads it. */
export const quickDealDocumentSchema = z.object({
  apiVersion: z.literal(apiVersion),
  kind: z.literal(kind),
  metadata: z.object({ name: dealIdSchema, namespace: z.string().optional() }).passthrough(),
  spec: quickDealSpecSchema,
});
export type QuickDealDocument = z.output<typeof quickDealDocumentSchema>;

export const conditionTypes = ['Ready', 'TopicReady', 'ConfigSynced', 'ConsumersScaled'] as const;
export type ConditionType = (typeof conditionTypes)[number];
export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** metav1.Condition. */
export interface QuickDealCondition {
  type: ConditionType;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface QuickDealStatus {
  phase?: DealPhase;
  topic?: string;
  waiting?: number;
  active?: number;
  sold?: number;
  remaining?: number;
  draw?: { state: string; commitment: string; seed?: string };
  observedGeneration?: number;
  conditions?: QuickDealCondition[];
}

export interface QuickDeal {
  apiVersion?: typeof apiVersion;
  kind?: typeof kind;
  metadata: {
    name: string;
    namespace?: string;
    generation?: number;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    managedFields?: Array<{ manager?: string; operation?: string; subresource?: string; fieldsV1?: unknown }>;
  };
  /** As the API server holds it: validated by the CRD's schema, checked again against the spec schema on every reconcile. */
  spec: QuickDealSpec;
  status?: QuickDealStatus;
}

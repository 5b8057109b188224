import { z } from 'zod';
import { dealIdSchema, quickDealSpecSchema, type DealPhase, type QuickDealSpec } from '@quickdeal/core';

export const group = 'quickdeal.io';
export const version = 'v1alpha1';
export const apiVersion = `${group}/${version}`;
export const kind = 'QuickDeal';
export const plural = 'quickdeals';
export const shortName = 'qd';

/** A QuickDeal document as kubectl or `quickdeal apply -f` reads it. */
export const quickDealDocumentSchema = z.object({
  apiVersion: z.literal(apiVersion),
  kind: z.literal(kind),
  metadata: z.object({ name: dealIdSchema, namespace: z.string().optional() }).passthrough(),
  spec: quickDealSpecSchema,
});
export type QuickDealDocument = z.output<typeof quickDealDocumentSchema>;

export interface QuickDealCondition {
  type: 'Ready' | 'TopicReady' | 'ConfigSynced' | 'ConsumersScaled';
  status: 'True' | 'False' | 'Unknown';
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
  observedGeneration?: number;
  conditions?: QuickDealCondition[];
}

export interface QuickDeal {
  apiVersion: typeof apiVersion;
  kind: typeof kind;
  metadata: { name: string; namespace?: string; generation?: number; uid?: string; resourceVersion?: string; deletionTimestamp?: string; finalizers?: string[] };
  spec: QuickDealSpec;
  status?: QuickDealStatus;
}

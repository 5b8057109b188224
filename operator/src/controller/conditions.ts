import { conditionTypes, type ConditionStatus, type ConditionType, type QuickDealCondition } from '../api/v1alpha1/quickdeal.js';

/** A condition as the reconcile decides it; the time it last changed is worked out here. */
export interface ConditionInput {
  status: ConditionStatus;
  reason: string;
  message: string;
}

/**
 * metav1.Condition semantics: lastTransitionTime moves only when the status changes, so
 * `kubectl get` shows how long a deal has been Ready (or not). Conditions come out in one fixed order.
 */
export function mergeConditions(
  previous: QuickDealCondition[] | undefined,
  next: Partial<Record<ConditionType, ConditionInput>>,
  generation: number | undefined,
  now: Date,
): QuickDealCondition[] {
  const result: QuickDealCondition[] = [];
  for (const type of conditionTypes) {
    const old = previous?.find((condition) => condition.type === type);
    const input = next[type];
    if (!input) {
      if (old) result.push(old);
      continue;
    }
    result.push({
      type,
      status: input.status,
      reason: input.reason,
      message: input.message,
      lastTransitionTime: old && old.status === input.status ? old.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      ...(generation === undefined ? {} : { observedGeneration: generation }),
    });
  }
  return result;
}

/** Ready sums up the conditions the deal depends on: its topic and its settings. */
export function readyCondition(parts: Array<ConditionInput | undefined>): ConditionInput {
  const failing = parts.find((part) => part && part.status !== 'True');
  if (failing) return { status: failing.status, reason: failing.reason, message: failing.message };
  return { status: 'True', reason: 'DealServing', message: 'The deal’s topic and settings are in place' };
}

import { randomBytes } from 'node:crypto';
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from '@quickdeal/core';
import { apiVersion, kind, type QuickDeal } from '../api/v1alpha1/quickdeal.js';
import { describeApiError, fieldManager } from './kube-api.js';

export type EventType = 'Normal' | 'Warning';

/**
 * Records Kubernetes Events on a QuickDeal (`kubectl describe qd` lists them). Each Event is owned
 * by its QuickDeal, so the garbage collector removes it with the deal. Recording never fails a reconcile.
 */
export class EventRecorder {
  constructor(
    private readonly core: CoreV1Api,
    private readonly source: { component: string; instance: string },
    private readonly logger: Logger,
  ) {}

  async record(deal: QuickDeal, type: EventType, reason: string, message: string): Promise<void> {
    const { name, namespace, uid } = deal.metadata;
    if (!namespace || !uid) return;
    const now = new Date();
    try {
      await this.core.createNamespacedEvent({
        namespace,
        fieldManager,
        body: {
          metadata: {
            name: `${name}.${now.getTime().toString(16)}${randomBytes(3).toString('hex')}`,
            namespace,
            ownerReferences: [{ apiVersion, kind, name, uid }],
          },
          involvedObject: {
            apiVersion,
            kind,
            name,
            namespace,
            uid,
            ...(deal.metadata.resourceVersion ? { resourceVersion: deal.metadata.resourceVersion } : {}),
          },
          type,
          reason,
          message,
          count: 1,
          firstTimestamp: now,
          lastTimestamp: now,
          source: { component: this.source.component },
          reportingComponent: this.source.component,
          reportingInstance: this.source.instance,
        },
      });
    } catch (error) {
      this.logger.warn({ deal: `${namespace}/${name}`, reason, error: describeApiError(error) }, 'could not record an event');
    }
  }
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it
 * (@kubernetes/client-node has none): a candidate takes the Lease when it is free or its holder
 * has not renewed it for a lease duration (measured on this process's clock, from when the record
 * last changed, so clock skew between nodes does not matter); the leader renews it every retry
 * period and steps down when it could not renew within the renew deadline. Updates carry the
 * resourceVersion, so two candidates can never both win one round.
 *
 * Fencing: `holdsLease()` is true only until the renew deadline after the start of the last
 * successful renewal, on a monotonic clock (a wall-clock jump can neither extend nor end it), so
 * work checked against it stops even before the loop notices the loss. The loop never waits on the
 * leadership callbacks: a slow start (a long LIST) cannot delay a renewal.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from '@quickdeal/core';
import { describeApiError, fieldManager, isConflict, isNotFound } from './kube-api.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export interface LeaderCallbacks {
  onStartedLeading: () => Promise<void> | void;
  onStoppedLeading: () => Promise<void> | void;
  onNewLeader?: (identity: string) => void;
}

/** Milliseconds on a clock that never jumps (wall-clock changes do not move it). */
const monotonicNow = () => performance.now();

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private observed: { record: string; at: number } | undefined;
  private lastRenew = 0;
  private knownLeader: string | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly coordination: CoordinationV1Api,
    private readonly options: LeaderElectionOptions,
    private readonly callbacks: LeaderCallbacks,
    private readonly logger: Logger,
  ) {}

  isLeader(): boolean {
    return this.leading;
  }

  /** Whether this process renewed its Lease recently enough to still hold it (for /healthz). */
  isHealthy(): boolean {
    return !this.leading || monotonicNow() - this.lastRenew < this.options.leaseDurationMs + this.options.retryPeriodMs;
  }

  /** The fence: true only while the last renewal is younger than the renew deadline. */
  holdsLease(): boolean {
    return this.leading && monotonicNow() - this.lastRenew < this.options.renewDeadlineMs;
  }

  get leader(): string | undefined {
    return this.knownLeader;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops campaigning; a leader steps down first and, with `release`, frees the Lease so another takes over at once. */
  async stop(options: { release: boolean }): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    if (this.leading) {
      this.leading = false;
      await this.notify('onStoppedLeading');
      if (options.release) await this.release();
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      // A hung request must not keep a leader leading past its renew deadline.
      const budget = this.leading
        ? Math.max(100, this.lastRenew + this.options.renewDeadlineMs - monotonicNow())
        : this.options.renewDeadlineMs;
      const attemptedAt = monotonicNow();
      const held = await Promise.race([this.tryAcquireOrRenew(), sleep(budget).then(() => false)]);
      if (this.stopped) break;
      if (held) {
        // From when the request left, not when it came back: the fence errs on the side of stopping.
        this.lastRenew = attemptedAt;
        if (!this.leading) {
          this.leading = true;
          this.logger.info(
            { lease: `${this.options.namespace}/${this.options.name}`, identity: this.options.identity },
            'became the leader',
          );
          void this.notify('onStartedLeading');
        }
      } else if (
        this.leading &&
        (this.knownLeader !== this.options.identity || monotonicNow() - this.lastRenew >= this.options.renewDeadlineMs)
      ) {
        this.leading = false;
        this.logger.warn(
          { lease: `${this.options.namespace}/${this.options.name}`, holder: this.knownLeader },
          this.knownLeader === this.options.identity
            ? 'lost the lease: could not renew it within the renew deadline'
            : 'lost the lease to another candidate',
        );
        void this.notify('onStoppedLeading');
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        const jitter = this.leading ? 0 : Math.random() * 0.2 * this.options.retryPeriodMs;
        void sleep(this.options.retryPeriodMs + jitter).then(resolve);
      });
    }
  }

  /** Runs a leadership callback; a failure is logged, never allowed to end the election loop. */
  private async notify(callback: 'onStartedLeading' | 'onStoppedLeading'): Promise<void> {
    try {
      await this.callbacks[callback]();
    } catch (error) {
      this.logger.error({ err: error }, `${callback} failed`);
    }
  }

  private leaseSpec(now: Date, previous: V1Lease['spec'] | undefined, durationSeconds: number) {
    const sameHolder = previous?.holderIdentity === this.options.identity;
    return {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: durationSeconds,
      acquireTime: new V1MicroTime(sameHolder && previous?.acquireTime ? new Date(previous.acquireTime).getTime() : now.getTime()),
      renewTime: new V1MicroTime(now.getTime()),
      // As client-go counts: every change of holder, taking a released (empty) Lease included.
      leaseTransitions: (previous?.leaseTransitions ?? 0) + (previous && !sameHolder ? 1 : 0),
    };
  }

  /** One round: true when this process holds the Lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    const durationSeconds = Math.max(1, Math.ceil(this.options.leaseDurationMs / 1000));
    const now = new Date();
    let lease: V1Lease;
    try {
      lease = await this.coordination.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (!isNotFound(error)) {
        this.logger.warn({ error: describeApiError(error) }, 'could not read the leader election lease');
        return false;
      }
      try {
        await this.coordination.createNamespacedLease({
          namespace,
          fieldManager,
          body: { metadata: { name, namespace }, spec: this.leaseSpec(now, undefined, durationSeconds) },
        });
        this.observe(identity, now.toISOString());
        return true;
      } catch (createError) {
        if (!isConflict(createError))
          this.logger.warn({ error: describeApiError(createError) }, 'could not create the leader election lease');
        return false;
      }
    }

    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    this.observe(holder, spec.renewTime ? new Date(spec.renewTime).toISOString() : '');
    const observedAt = this.observed?.at ?? 0;
    const heldMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (holder && holder !== identity && observedAt + heldMs > monotonicNow()) return false;

    try {
      await this.coordination.replaceNamespacedLease({
        name,
        namespace,
        fieldManager,
        body: { ...lease, spec: this.leaseSpec(now, spec, durationSeconds) }, // carries metadata.resourceVersion
      });
      this.observe(identity, now.toISOString());
      return true;
    } catch (error) {
      if (!isConflict(error)) this.logger.warn({ error: describeApiError(error) }, 'could not update the leader election lease');
      return false;
    }
  }

  private observe(holder: string, renewTime: string): void {
    const record = `${holder}@${renewTime}`;
    if (this.observed?.record !== record) this.observed = { record, at: monotonicNow() };
    if (holder && holder !== this.knownLeader) {
      this.knownLeader = holder;
      this.callbacks.onNewLeader?.(holder);
    }
  }

  /** Frees the Lease (holder cleared, one-second duration) as client-go's ReleaseOnCancel does. */
  private async release(): Promise<void> {
    const { namespace, name, identity } = this.options;
    try {
      const lease = await this.coordination.readNamespacedLease({ name, namespace });
      if (lease.spec?.holderIdentity !== identity) return;
      const now = new V1MicroTime(Date.now());
      await this.coordination.replaceNamespacedLease({
        name,
        namespace,
        fieldManager,
        body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now } },
      });
      this.logger.info({ lease: `${namespace}/${name}` }, 'released the lease');
    } catch (error) {
      this.logger.warn({ error: describeApiError(error) }, 'could not release the lease');
    }
  }
}

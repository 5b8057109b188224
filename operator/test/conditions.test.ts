import { describe, expect, it } from 'vitest';
import { mergeConditions, operatorConfigSchema, operatorOptionsFrom, readyCondition } from '@quickdeal/operator';
import { ConfigError, parseConfig } from '@quickdeal/core';

describe('conditions', () => {
  it('move lastTransitionTime only when the status changes, in a fixed order', () => {
    const first = mergeConditions(
      undefined,
      {
        TopicReady: { status: 'True', reason: 'TopicCreated', message: 'm' },
        Ready: { status: 'True', reason: 'DealServing', message: 'ok' },
      },
      1,
      new Date('2026-01-01T00:00:00Z'),
    );
    expect(first.map((c) => c.type)).toEqual(['Ready', 'TopicReady']);
    const second = mergeConditions(
      first,
      {
        TopicReady: { status: 'True', reason: 'TopicExists', message: 'm' },
        Ready: { status: 'False', reason: 'StockBelowSold', message: 'no' },
      },
      2,
      new Date('2026-01-01T00:05:00Z'),
    );
    expect(second).toEqual([
      {
        type: 'Ready',
        status: 'False',
        reason: 'StockBelowSold',
        message: 'no',
        lastTransitionTime: '2026-01-01T00:05:00Z',
        observedGeneration: 2,
      },
      {
        type: 'TopicReady',
        status: 'True',
        reason: 'TopicExists',
        message: 'm',
        lastTransitionTime: '2026-01-01T00:00:00Z',
        observedGeneration: 2,
      },
    ]);
  });

  it('Ready follows the first condition that is not True', () => {
    expect(
      readyCondition([
        { status: 'True', reason: 'A', message: '' },
        { status: 'False', reason: 'B', message: 'why' },
      ]),
    ).toEqual({ status: 'False', reason: 'B', message: 'why' });
    expect(readyCondition([{ status: 'True', reason: 'A', message: '' }]).status).toBe('True');
  });
});

describe('the operator’s configuration', () => {
  const env = { REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: 'postgres://u:p@127.0.0.1/db', KAFKA_BROKERS: '127.0.0.1:9092' };

  it('fills in defaults', () => {
    const config = parseConfig(operatorConfigSchema, { ...env, POD_NAME: 'op-0', POD_NAMESPACE: 'shop' });
    expect(config).toMatchObject({
      PORT: 8084,
      identity: 'op-0',
      leaseNamespace: 'shop',
      admissionNamespace: 'shop',
      LEADER_ELECT: true,
      SCALING_MAX_REPLICAS: 10,
    });
  });

  it('reads LEADER_ELECT as every service reads a yes/no setting', () => {
    expect(parseConfig(operatorConfigSchema, { ...env, LEADER_ELECT: '0' }).LEADER_ELECT).toBe(false);
    expect(parseConfig(operatorConfigSchema, { ...env, LEADER_ELECT: 'false' }).LEADER_ELECT).toBe(false);
    expect(parseConfig(operatorConfigSchema, { ...env, LEADER_ELECT: '1' }).LEADER_ELECT).toBe(true);
  });

  it('scales admission only with a Prometheus URL and SCALE_ADMISSION, and ticketing ahead of openings only with its HPA and a rush minimum', () => {
    const options = (extra: Record<string, string>) =>
      operatorOptionsFrom(parseConfig(operatorConfigSchema, { ...env, POD_NAMESPACE: 'shop', ...extra }));
    expect(options({ PROMETHEUS_URL: 'http://prometheus:9090' }).scaling).toMatchObject({
      namespace: 'shop',
      deployment: 'quickdeal-admission',
    });
    expect(options({ PROMETHEUS_URL: 'http://prometheus:9090', SCALE_ADMISSION: 'false' }).scaling).toBeUndefined(); // KEDA owns the replicas
    expect(options({}).ticketingRush).toBeUndefined();
    expect(options({ TICKETING_HPA: 'shop-ticketing' }).ticketingRush).toBeUndefined(); // no rush minimum
    expect(
      options({ TICKETING_HPA: 'shop-ticketing', TICKETING_RUSH_MIN_REPLICAS: '6', TICKETING_RUSH_LEAD_SECONDS: '120' }).ticketingRush,
    ).toEqual({
      namespace: 'shop',
      hpa: 'shop-ticketing',
      intervalMs: 15_000,
      minReplicas: 6,
      leadMs: 120_000,
      holdMs: 900_000,
    });
  });

  it('fails fast, naming the variable', () => {
    expect(() => parseConfig(operatorConfigSchema, { ...env, SCALING_MIN_REPLICAS: '4', SCALING_MAX_REPLICAS: '2' })).toThrow(ConfigError);
    expect(() => parseConfig(operatorConfigSchema, { ...env, SCALING_MIN_REPLICAS: '4', SCALING_MAX_REPLICAS: '2' })).toThrow(
      /SCALING_MIN_REPLICAS: must not be above SCALING_MAX_REPLICAS/,
    );
    expect(() => parseConfig(operatorConfigSchema, { ...env, PROMETHEUS_URL: 'not a url' })).toThrow(/PROMETHEUS_URL/);
    expect(() => parseConfig(operatorConfigSchema, { REDIS_URL: env.REDIS_URL })).toThrow(/DATABASE_URL/);
  });
});

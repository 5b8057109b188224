import {
  KafkaJSAggregateError,
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSProtocolError,
  KafkaJSNumberOfRetriesExceeded,
} from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError } from '@quickdeal/core';
import { dealSyncErrorOf } from '@quickdeal/operator';

const applyStep = { condition: 'ConfigSynced', reason: 'ApplyFailed', doing: 'apply the deal' } as const;
const topicStep = { condition: 'TopicReady', reason: 'TopicNotCreated', doing: 'ensure the topic' } as const;

describe('what a failed reconcile step reports', () => {
  it('names Postgres when its connection cannot be had', () => {
    const error = dealSyncErrorOf(new DependencyUnavailableError('postgres', new Error('connect ECONNREFUSED 127.0.0.1:5432')), applyStep);
    expect(error).toMatchObject({ condition: 'ConfigSynced', reason: 'PostgresUnavailable', dependency: 'postgres' });
    expect(error.message).toMatch(/^Postgres is unreachable, so the operator could not apply the deal; .*ECONNREFUSED/);
  });

  it('names Kafka when no broker answers, on whichever step it was', () => {
    const retried = new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'), {
      retryCount: 3,
      retryTime: 400,
    });
    expect(dealSyncErrorOf(retried, applyStep)).toMatchObject({ condition: 'TopicReady', reason: 'KafkaUnavailable', dependency: 'kafka' });
  });

  it('names Redis when its commands fail for want of a connection', () => {
    const error = Object.assign(new Error('Reached the max retries per request limit (which is 2).'), {
      name: 'MaxRetriesPerRequestError',
    });
    expect(dealSyncErrorOf(error, applyStep)).toMatchObject({ condition: 'ConfigSynced', reason: 'RedisUnavailable', dependency: 'redis' });
  });

  it('keeps a broker that answered and refused (a replication factor above the brokers) apart from an outage', () => {
    // What kafkajs's createTopics rejects with: the broker's error per topic, wrapped by its retrier.
    const refused = new KafkaJSAggregateError('Topic creation errors', [new KafkaJSProtocolError('Replication factor is invalid')]);
    const error = dealSyncErrorOf(Object.assign(new KafkaJSNonRetriableError(refused), { cause: refused }), topicStep);
    expect(error).toMatchObject({ condition: 'TopicReady', reason: 'TopicNotCreated', dependency: undefined });
    expect(error.message).toBe('could not ensure the topic: Topic creation errors');
  });

  it('reports anything else as the step’s own failure', () => {
    expect(dealSyncErrorOf(new Error('value too long for type character(3)'), applyStep)).toMatchObject({
      condition: 'ConfigSynced',
      reason: 'ApplyFailed',
      dependency: undefined,
      message: 'could not apply the deal: value too long for type character(3)',
    });
  });
});

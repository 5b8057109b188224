import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded } from 'kafkajs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError, outageOf } from '../src/http/dependency-outage.js';

function databaseError(code: string, message: string) {
  const error = new pg.DatabaseError(message, message.length, 'error');
  error.code = code;
  error.severity = 'FATAL';
  return error;
}

/** ioredis's error when its offline queue gives up (the class is not exported; its name is what the handler reads). */
class MaxRetriesPerRequestError extends Error {
  override name = 'MaxRetriesPerRequestError';
}

describe('recognising an outage', () => {
  it.each([
    [
      'ioredis giving up while Redis is away',
      new MaxRetriesPerRequestError('Reached the max retries per request limit (which is 2).'),
      'REDIS_UNAVAILABLE',
      1,
    ],
    ['a command on a closed Redis connection', new Error('Connection is closed.'), 'REDIS_UNAVAILABLE', 1],
    ['a Kafka broker out of reach', new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'), 'KAFKA_UNAVAILABLE', 2],
    [
      'kafkajs out of retries, wrapping the cause',
      new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('refused'), { retryCount: 5, retryTime: 1000 }),
      'KAFKA_UNAVAILABLE',
      2,
    ],
    [
      'Postgres shutting down (57P01)',
      databaseError('57P01', 'terminating connection due to administrator command'),
      'POSTGRES_UNAVAILABLE',
      2,
    ],
    ['Postgres starting up (57P03)', databaseError('57P03', 'the database system is starting up'), 'POSTGRES_UNAVAILABLE', 2],
    ['a broken Postgres connection', new Error('Connection terminated unexpectedly'), 'POSTGRES_UNAVAILABLE', 2],
    ['the pool out of time for a connection', new Error('timeout exceeded when trying to connect'), 'POSTGRES_UNAVAILABLE', 2],
    [
      'a connection the pool could not open',
      new DependencyUnavailableError('postgres', new Error('connect ECONNREFUSED 127.0.0.1:5432')),
      'POSTGRES_UNAVAILABLE',
      2,
    ],
    [
      'an outage found in a cause',
      new Error('admission failed', { cause: new MaxRetriesPerRequestError('gave up') }),
      'REDIS_UNAVAILABLE',
      1,
    ],
  ])('%s → %s', (_name, error, code, retryAfterSeconds) => {
    expect(outageOf(error)).toMatchObject({ code, retryAfterSeconds });
  });

  it.each([
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['a constraint violation', databaseError('23505', 'duplicate key value violates unique constraint')],
    ['a Redis script error', Object.assign(new Error('ERR Error running script'), { name: 'ReplyError' })],
    ['not an error at all', 'boom'],
  ])('leaves %s to the 500 handler', (_name, error) => {
    expect(outageOf(error)).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, commonConfigSchema, flag, parseConfig } from '../src/config.js';

describe('configuration', () => {
  it('parses the environment once, splitting the broker list', () => {
    const config = parseConfig(commonConfigSchema, {
      PORT: '8081',
      REDIS_URL: 'redis://127.0.0.1:6379',
      DATABASE_URL: 'postgres://u:p@h/db',
      KAFKA_BROKERS: 'a:9092, b:9092',
    });
    expect(config).toMatchObject({
      PORT: 8081,
      KAFKA_BROKERS: ['a:9092', 'b:9092'],
      KAFKA_TOPIC_PREFIX: 'quickdeal.tickets.',
      LOG_LEVEL: 'info',
    });
  });

  it('fails fast naming every bad variable', () => {
    const attempt = () =>
      parseConfig(commonConfigSchema, { PORT: 'eighty', REDIS_URL: 'nope', DATABASE_URL: 'mysql://x', KAFKA_BROKERS: 'a:9092' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/PORT: .*; REDIS_URL: .*; DATABASE_URL: must be a postgres:\/\/ URL/);
  });

  it('reads a yes/no setting as true/false or 1/0, and names a bad one', () => {
    const schema = z.object({ ON: flag(false), OFF: flag(true) });
    expect(parseConfig(schema, {})).toEqual({ ON: false, OFF: true });
    expect(parseConfig(schema, { ON: 'true', OFF: 'false' })).toEqual({ ON: true, OFF: false });
    expect(parseConfig(schema, { ON: '1', OFF: '0' })).toEqual({ ON: true, OFF: false });
    expect(() => parseConfig(schema, { ON: 'yes' })).toThrow(/ON: /);
  });
});

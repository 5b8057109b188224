/** The settings a deployable's image gets to start against the test profile's servers (and the test API server, for the operator). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TicketKeyring } from '@quickdeal/core';
import { endpoints } from '@quickdeal/dev/profiles';
import { uniqueName } from '@quickdeal/dev/testing';

export type Deployable = 'ticketing' | 'admission' | 'payment' | 'operator';

export interface ImageEnvContext {
  keyDir: string; // where the ticket keys are written (files the settings name)
  kubeconfig: string;
  namespace: string; // the operator watches it and holds its lease there
}

/** A fresh topic prefix, group and lease, and new ticket keys, so runs never share state. */
export async function imageEnv(target: Deployable, { keyDir, kubeconfig, namespace }: ImageEnvContext): Promise<Record<string, string>> {
  const stack = endpoints('test');
  const id = uniqueName('image');
  const signing = await TicketKeyring.generateSigningJwk();
  const signingFile = join(keyDir, `${target}-signing.jwk.json`);
  const publicFile = join(keyDir, `${target}-verification.jwks.json`);
  writeFileSync(signingFile, JSON.stringify(signing));
  writeFileSync(publicFile, JSON.stringify({ keys: [{ ...signing, d: undefined }] }));
  const kafka = { KAFKA_BROKERS: stack.kafkaBrokers.join(','), KAFKA_TOPIC_PREFIX: `qdimage.${id}.` };
  switch (target) {
    case 'ticketing':
      return { ...kafka, REDIS_URL: stack.redisUrl, TICKET_SIGNING_KEY_FILE: signingFile, SHOPPER_IDENTITY: 'header' };
    case 'admission':
      return { ...kafka, REDIS_URL: stack.redisUrl, ADMISSION_GROUP_ID: id };
    case 'payment':
      return {
        REDIS_URL: stack.redisUrl,
        DATABASE_URL: stack.postgresUrl,
        TICKET_VERIFICATION_KEYS_FILE: publicFile,
        SHOPPER_IDENTITY: 'header',
      };
    case 'operator':
      return {
        ...kafka,
        REDIS_URL: stack.redisUrl,
        DATABASE_URL: stack.postgresUrl,
        KUBECONFIG: kubeconfig,
        POD_NAMESPACE: namespace,
        WATCH_NAMESPACE: namespace,
        LEASE_NAME: id,
      };
  }
}

/**
 * Small flash sales on the `cluster` profile (three Kafka brokers, Redis Cluster, two processes of
 * each service behind the gateway), each checked by the invariant checker, with one fault in the
 * middle: a Kafka broker, a Redis primary, one process of each service, an admission consumer
 * joining and leaving. Asserts invariants, that the sale sold out and, for the Kafka and Redis faults,
 * that ticket issue stood still for less than 12 s (a generous bound: the measured stalls are printed;
 * CLUSTER_REPORT=1 prints the whole report).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis, type Cluster } from 'ioredis';
import { DealStore } from '@quickdeal/core';
import { endpoints, profile, profileNodes } from '@quickdeal/dev/profiles';
import { ensureServiceProcess } from '@quickdeal/dev/services';
import { stopServer } from '@quickdeal/dev/stack';
import { applyOpenDeal, freePort, recordTicket } from '@quickdeal/dev/testing';
import { connectClients, waitForAdmission, type StackClients } from '../src/cli/stack.js';
import {
  dealCounter,
  kill as killServer,
  partitionLeader,
  pidOf as pidOfServer,
  restore as restoreProfile,
  slotPrimary,
  stallOf,
  whenIssued,
} from '../src/cluster/faults.js';
import { createLoadDeal, freshDealId, retireLoadDeals, type LoadDeal } from '../src/cli/deal.js';
import { planFor } from '../src/plan.js';
import { formatReport, type FlashSaleReport } from '../src/report.js';
import { runFlashSale } from '../src/run-flash-sale.js';
import { httpTransport } from '../src/transport.js';

const PROFILE = 'cluster';
const target = endpoints(PROFILE);
const gateway = `http://127.0.0.1:${profile(PROFILE).ports.gateway}`;
let clients: StackClients;
const outDir = mkdtempSync(join(tmpdir(), 'quickdeal-cluster-'));
const deals: LoadDeal[] = [];
const log = (line: string) => {
  if (process.env.CLUSTER_REPORT) console.log(line);
};

beforeAll(async () => {
  clients = connectClients(PROFILE);
});

afterAll(async () => {
  await retireLoadDeals(target, clients.kafka, deals, log).catch(() => undefined);
  await clients?.close();
});

const pidOf = (name: string) => pidOfServer(PROFILE, name);
const kill = (name: string) => killServer(PROFILE, name);
const restore = () => restoreProfile(PROFILE);
const issued = (dealId: string) => dealCounter(clients.store, dealId, 'issued');
const admitted = (dealId: string) => dealCounter(clients.store, dealId, 'admitted');

/** One small sale through the gateway; `fault` runs once a third of the shoppers hold tickets. */
async function sale(name: string, fault?: (dealId: string, topic: string) => Promise<void>): Promise<FlashSaleReport> {
  const plan = planFor(undefined, {
    shoppers: 600,
    arrivalRate: 60,
    arrivalProfile: 'constant',
    stock: 40,
    cap: 8,
    windowMs: 3_000,
    pay: 0.7,
    cancel: 0.1,
    decline: 0,
    thinkMs: [100, 600],
    maxDurationMs: 150_000,
    timeoutMs: 20_000,
    connections: 64,
    seed: 12,
  });
  const dealId = freshDealId(`cl-${name}`);
  const deal = await createLoadDeal(target, outDir, dealId, plan);
  deals.push(deal);
  await waitForAdmission(clients.kafka, [deal.topic]);
  const transport = httpTransport(() => gateway, { connections: plan.connections });
  const faulted = fault ? whenIssued(clients.store, dealId, plan.shoppers / 3).then(() => fault(dealId, deal.topic)) : Promise.resolve();
  try {
    const report = await runFlashSale({
      plan,
      transport,
      runId: dealId,
      deals: [deal],
      store: clients.store,
      db: clients.db,
      kafka: clients.kafka,
      log,
    });
    await faulted;
    if (process.env.CLUSTER_REPORT) console.log(formatReport(report));
    return report;
  } finally {
    await transport.close();
  }
}

function expectInvariants(report: FlashSaleReport): void {
  const broken = report.invariants.checks.filter((check) => check.violations > 0);
  expect(broken, formatReport(report)).toEqual([]);
  expect(report.invariants.figures, formatReport(report)).toMatchObject({
    fifoViolations: 0,
    oversoldUnits: 0,
    lostTickets: 0,
    stillWaiting: 0,
  });
  expect(report.invariants.figures.ticketsChecked).toBeGreaterThan(0);
  // The sale went on past the fault: every unit sold.
  expect(report.sale.sold, formatReport(report)).toBe(report.sale.stock);
}

describe('the cluster profile', () => {
  it('runs scripts of deals on different primaries at the same time from one client', async () => {
    const redis = clients.redis as Cluster;
    const dealIds = Array.from({ length: 24 }, (_, i) => `slots-${i}`);
    const slots = await Promise.all(dealIds.map(async (id) => Number(await redis.cluster('KEYSLOT', `qd:{${id}}:cfg`))));
    expect(new Set(slots.map((slot) => redis.slots[slot]?.[0])).size).toBe(3); // spread over all three primaries
    const snapshots = await Promise.all(dealIds.map((id) => clients.store.snapshot(id)));
    expect(snapshots.map((snapshot) => snapshot.exists)).toEqual(dealIds.map(() => false));
  });

  it("holds a ticket's 201 until the replica of the deal's slot has its record (WAIT on the primary that wrote it)", async () => {
    const redis = clients.redis as Cluster;
    const dealId = freshDealId('cl-wait');
    const shortfalls: string[] = [];
    const store = new DealStore(redis, { replicaWait: { replicas: 1, timeoutMs: 500, onShortfall: (write) => shortfalls.push(write) } });
    await applyOpenDeal(store, dealId);
    const take = (shopperId: string) => recordTicket(store, dealId, shopperId);
    const slot = Number(await redis.cluster('KEYSLOT', `qd:{${dealId}}:cfg`));
    const owner = (await redis.cluster('SLOTS')).find(([from, to]) => slot >= from && slot <= to);
    const replicaPort = owner?.[3]?.[1];
    const replicaName = `redis-${profileNodes(PROFILE).redis.findIndex((node) => node.port === replicaPort) + 1}`;

    expect(await take('confirmed')).toBe(true);
    expect(shortfalls).toEqual([]);
    const replica = new Redis(Number(replicaPort), '127.0.0.1');
    try {
      await replica.call('READONLY');
      expect(await replica.hget(`qd:{${dealId}}:ticket:confirmed`, 'state')).toBe('waiting');
    } finally {
      replica.disconnect();
    }

    const pid = await pidOf(replicaName);
    process.kill(pid, 'SIGSTOP');
    try {
      expect(await take('unconfirmed')).toBe(true);
      // a WAIT sent to any other node would have been confirmed at once
      expect(shortfalls).toEqual(['ticket']);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });

  it('runs a flash sale through the gateway over two processes of each service, three brokers and Redis Cluster', async () => {
    const report = await sale('plain');
    expectInvariants(report);
    expect(report.errors.unexpected, formatReport(report)).toBe(0);
    // the deal's topic is replicated three ways, two in sync to acknowledge
    const admin = clients.kafka.admin();
    await admin.connect();
    try {
      const [topic] = (await admin.fetchTopicMetadata({ topics: [`quickdeal.tickets.${report.dealId}`] })).topics;
      expect(topic?.partitions[0]?.replicas).toHaveLength(3);
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: `quickdeal.tickets.${report.dealId}`, configNames: ['min.insync.replicas'] }],
      });
      expect(configs.resources[0]?.configEntries[0]?.configValue).toBe('2');
    } finally {
      await admin.disconnect();
    }
  });

  it("keeps issuing tickets when the broker leading the deal's partition dies mid-sale", async () => {
    let stall = Infinity;
    const report = await sale('kafka', async (dealId, topic) => {
      const leader = await partitionLeader(clients.kafka, topic);
      const killedAt = Date.now();
      await kill(leader);
      stall = await stallOf(issued(dealId), killedAt);
      console.log(`${leader} (leader of ${topic}) killed: ticket issue stood still for at most ${stall} ms`);
    });
    expect(stall).toBeLessThan(12_000); // issue went on within seconds
    expectInvariants(report);
    await restore();
  });

  it("loses no 201 ticket, oversells nothing and admits nobody twice or out of order when the deal's Redis primary dies", async () => {
    let stall = Infinity;
    const report = await sale('redis', async (dealId) => {
      const primary = await slotPrimary(clients.redis as Cluster, PROFILE, dealId);
      const killedAt = Date.now();
      await kill(primary.name);
      stall = await stallOf(issued(dealId), killedAt);
      console.log(`${primary.name} (primary of slot ${primary.slot}) killed: ticket issue stood still for at most ${stall} ms`);
    });
    expect(stall).toBeLessThan(12_000);
    expectInvariants(report);
    await restore();
  });

  it('serves on when one process of each service dies mid-sale', async () => {
    const report = await sale('services', async (dealId) => {
      const killedAt = Date.now();
      for (const name of ['ticketing-1', 'payment-1', 'admission-1']) await kill(name);
      const [issue, admission] = await Promise.all([stallOf(issued(dealId), killedAt), stallOf(admitted(dealId), killedAt)]);
      console.log(`ticketing-1, payment-1, admission-1 killed: issue stood still for at most ${issue} ms, admission ${admission} ms`);
    });
    expectInvariants(report);
    await restore();
  });

  it('keeps FIFO while an admission consumer joins and another leaves mid-sale', async () => {
    const port = await freePort();
    const report = await sale('rebalance', async () => {
      await ensureServiceProcess(PROFILE, 'admission', 'admission-extra', port);
      await sleep(2_000);
      await stopServer(PROFILE, 'admission-1'); // a graceful leave: commits what it processed
      await sleep(2_000);
      await stopServer(PROFILE, 'admission-extra');
    });
    expectInvariants(report);
    await restore();
  });
});

/**
 * The `cluster-faults` scenario's drill: during a flash sale on the cluster profile, one fault after
 * another, each restored before the next, and how long each stalled ticket issue, the answers to
 * polls and admission.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { DealStore } from '@quickdeal/core';
import type { ProfileName } from '@quickdeal/dev/profiles';
import { ensureServiceProcess } from '@quickdeal/dev/services';
import { stopServer } from '@quickdeal/dev/stack';
import { formatTable } from '@quickdeal/dev/table';
import type { Transport } from '../transport.js';
import { freePort } from '@quickdeal/dev/ports';
import { dealCounter, kill, partitionLeader, restore, slotPrimary, stallOf, whenIssued } from './faults.js';

export interface DrillContext {
  profile: ProfileName;
  kafka: Kafka;
  redis: Cluster;
  store: DealStore;
  dealId: string;
  topic: string;
  /** Status answers (200) the shoppers have had so far. */
  pollsAnswered: () => number;
  log: (line: string) => void;
}

interface Fault {
  name: string;
  /** Does the fault; says what it hit. */
  inject(context: DrillContext): Promise<string>;
  restore(context: DrillContext): Promise<void>;
}

/** What one fault did to the sale: the longest still-stand of each (ms; Infinity: it did not move within the window). */
export interface FaultStall {
  fault: string;
  target: string;
  issueMs: number;
  pollsMs: number;
  admissionMs: number;
  /** How long bringing the profile back whole took. */
  restoreS: number;
}

const extraConsumer = 'admission-extra';

/** The faults, in order: each restored before the next. */
export const clusterFaults: Fault[] = [
  {
    name: 'Kafka broker leading the deal partition killed',
    async inject({ profile, kafka, topic }) {
      const leader = await partitionLeader(kafka, topic);
      await kill(profile, leader);
      return leader;
    },
    restore: ({ profile }) => restore(profile),
  },
  {
    name: "Redis primary of the deal's slot killed",
    async inject({ profile, redis, dealId }) {
      const primary = await slotPrimary(redis, profile, dealId);
      await kill(profile, primary.name);
      return `${primary.name} (slot ${primary.slot})`;
    },
    restore: ({ profile }) => restore(profile),
  },
  {
    name: 'one process of each service killed',
    async inject({ profile }) {
      const names = ['ticketing-1', 'payment-1', 'admission-1'];
      for (const name of names) await kill(profile, name);
      return names.join(', ');
    },
    restore: ({ profile }) => restore(profile),
  },
  {
    name: 'an admission consumer joins',
    async inject({ profile }) {
      const port = await freePort();
      await ensureServiceProcess(profile, 'admission', extraConsumer, port);
      return `${extraConsumer} on :${port}`;
    },
    restore: async ({ profile }) => void (await stopServer(profile, extraConsumer)),
  },
  {
    name: 'an admission consumer leaves (SIGTERM)',
    async inject({ profile }) {
      await stopServer(profile, 'admission-1');
      return 'admission-1';
    },
    restore: ({ profile }) => restore(profile),
  },
];

/**
 * Runs the faults one after another once `startAfterIssued` tickets were issued, watching each for
 * `observeMs`; stops early (saying so) when the sale's arrivals ended, as stalls then mean nothing.
 */
export async function runFaultDrill(
  context: DrillContext,
  options: { startAfterIssued: number; observeMs: number; arrivalsOver: () => boolean; faults?: Fault[] },
): Promise<FaultStall[]> {
  const { store, dealId, log } = context;
  await whenIssued(store, dealId, options.startAfterIssued);
  const polls = async () => context.pollsAnswered();
  const stalls: FaultStall[] = [];
  for (const fault of options.faults ?? clusterFaults) {
    if (options.arrivalsOver()) {
      log(`fault drill: the shoppers stopped arriving before "${fault.name}"; the drill ends here`);
      break;
    }
    const at = Date.now();
    const target = await fault.inject(context);
    log(`fault drill: ${fault.name}: ${target}; watching the sale for ${options.observeMs / 1000} s …`);
    // Stalls count from the start of the fault; the window runs on from when it is in place (a new consumer takes a while to start).
    const window = { observeMs: Date.now() - at + options.observeMs, quietMs: Infinity };
    const [issueMs, pollsMs, admissionMs] = await Promise.all([
      stallOf(dealCounter(store, dealId, 'issued'), at, window),
      stallOf(polls, at, window),
      stallOf(dealCounter(store, dealId, 'admitted'), at, window),
    ]);
    const restoring = Date.now();
    await fault.restore(context);
    const restoreS = (Date.now() - restoring) / 1000;
    log(
      `fault drill: restored in ${restoreS.toFixed(1)} s (issue stood still ≤ ${ms(issueMs)}, polls ${ms(pollsMs)}, admission ${ms(admissionMs)})`,
    );
    stalls.push({ fault: fault.name, target, issueMs, pollsMs, admissionMs, restoreS });
    await sleep(2_000);
  }
  return stalls;
}

const ms = (value: number) => (Number.isFinite(value) ? `${(value / 1000).toFixed(2)} s` : 'the whole window');

/** The drill's table: per fault, the longest still-stand of issue, poll answers and admission. */
export function formatFaultTable(stalls: FaultStall[], observeMs: number): string {
  const cell = (value: number) => (Number.isFinite(value) ? (value / 1000).toFixed(2) : `> ${observeMs / 1000}`);
  return formatTable(
    [
      ['fault', 'target', 'issue stalled s', 'polls stalled s', 'admission stalled s', 'restored in s'],
      ...stalls.map((s) => [s.fault, s.target, cell(s.issueMs), cell(s.pollsMs), cell(s.admissionMs), s.restoreS.toFixed(1)]),
    ],
    { rightAligned: (column) => column > 1 },
  );
}

/** The transport, counting the status answers (200) the shoppers get: the poll side of a stall. */
export function countingPolls(transport: Transport): { transport: Transport; pollsAnswered: () => number } {
  let answered = 0;
  return {
    pollsAnswered: () => answered,
    transport: {
      async send(request, timeoutMs, stop) {
        const response = await transport.send(request, timeoutMs, stop);
        if (response.status === 200 && request.method === 'GET' && request.path.endsWith('/tickets/status')) answered++;
        return response;
      },
      close: () => transport.close(),
    },
  };
}

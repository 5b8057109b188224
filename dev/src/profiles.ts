/**
 * The local stacks QuickDeal runs: `dev` is what `quickdeal up` starts for a person,
 * `test` is what `npm test` starts. Each has its own ports and data, so both can run at once
 * and neither clashes with servers someone else runs on the machine's usual ports. `fault` holds
 * the Kafka and Redis that fault tests stop and restart, so other tests never see the outage.
 * Every port stays below 32768, where Linux hands out ephemeral ports for outgoing connections.
 */
export type ProfileName = 'dev' | 'test' | 'fault' | 'cluster';

export interface Profile {
  name: ProfileName;
  ports: {
    kafka: number;
    kafkaController: number;
    redis: number;
    postgres: number;
    gateway: number;
    ticketing: number;
    payment: number;
    admission: number;
    operator: number;
    kubeApiserver: number;
    etcdClient: number;
    etcdPeer: number;
  };
  /**
   * How many of each server the profile runs (1 each when absent). Node i (from 0) of a kind listens
   * on its base port + i: Kafka broker i on kafka + i (controller on kafkaController + i), Redis node i on
   * redis + i, service replica i on ticketing/payment/admission + i.
   */
  nodes?: { kafka: number; redis: number; serviceReplicas: number };
}

const profiles: Record<ProfileName, Profile> = {
  dev: {
    name: 'dev',
    ports: {
      kafka: 19092,
      kafkaController: 19093,
      redis: 16379,
      postgres: 15432,
      gateway: 8080,
      ticketing: 8081,
      payment: 8082,
      admission: 8083,
      operator: 8084,
      kubeApiserver: 16443,
      etcdClient: 12379,
      etcdPeer: 12380,
    },
  },
  test: {
    name: 'test',
    ports: {
      kafka: 29092,
      kafkaController: 29093,
      redis: 26379,
      postgres: 25432,
      gateway: 28080,
      ticketing: 28081,
      payment: 28082,
      admission: 28083,
      operator: 28084,
      kubeApiserver: 26443,
      etcdClient: 22379,
      etcdPeer: 22380,
    },
  },
  fault: {
    name: 'fault',
    ports: {
      kafka: 21092,
      kafkaController: 21093,
      redis: 21379,
      postgres: 21432,
      gateway: 21080,
      ticketing: 21081,
      payment: 21082,
      admission: 21083,
      operator: 21084,
      kubeApiserver: 21443,
      etcdClient: 21479,
      etcdPeer: 21480,
    },
  },
  // Three Kafka brokers, Redis Cluster (3 primaries + 3 replicas), two processes of each service.
  // Its own range, 23300–23349 (Redis Cluster bus ports 23340–23345), so it clashes with no other profile at any one offset.
  cluster: {
    name: 'cluster',
    ports: {
      kafka: 23300,
      kafkaController: 23303,
      redis: 23310,
      postgres: 23320,
      gateway: 23321,
      ticketing: 23322,
      payment: 23324,
      admission: 23326,
      operator: 23328,
      kubeApiserver: 23330,
      etcdClient: 23331,
      etcdPeer: 23332,
    },
    nodes: { kafka: 3, redis: 6, serviceReplicas: 2 },
  },
};

/**
 * QUICKDEAL_PORT_OFFSET shifts every port of every profile, so a second checkout (a CI rehearsal,
 * another branch) can run its own stacks beside this one.
 */
export function profile(name: ProfileName): Profile {
  const offset = Number(process.env.QUICKDEAL_PORT_OFFSET ?? 0);
  const base = profiles[name];
  if (!Number.isInteger(offset) || offset === 0) return base;
  const ports = Object.fromEntries(Object.entries(base.ports).map(([key, port]) => [key, port + offset])) as Profile['ports'];
  return { ...base, ports };
}

/** Node i of each kind the profile runs, with its address (see Profile.nodes). */
export function profileNodes(name: ProfileName) {
  const { ports, nodes } = profile(name);
  const count = nodes ?? { kafka: 1, redis: 1, serviceReplicas: 1 };
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  return {
    kafka: range(count.kafka).map((i) => ({ nodeId: i + 1, port: ports.kafka + i, controllerPort: ports.kafkaController + i })),
    redis: range(count.redis).map((i) => ({ port: ports.redis + i })),
    serviceReplicas: count.serviceReplicas,
  };
}

/** Connection settings for the servers of a profile, in the shape the services' configuration takes. */
export function endpoints(name: ProfileName) {
  const { ports } = profile(name);
  const nodes = profileNodes(name);
  return {
    kafkaBrokers: nodes.kafka.map((node) => `127.0.0.1:${node.port}`),
    redisUrl: `redis://127.0.0.1:${ports.redis}`,
    /** Set when the profile's Redis is a cluster: every node, for REDIS_CLUSTER_NODES. */
    redisClusterNodes: nodes.redis.length > 1 ? nodes.redis.map((node) => `127.0.0.1:${node.port}`) : undefined,
    /** Deal topics: replicated three ways, two in sync to acknowledge, when there are three brokers. */
    topicSettings: {
      replicationFactor: Math.min(3, nodes.kafka.length),
      minInsyncReplicas: Math.max(1, Math.min(3, nodes.kafka.length) - 1),
    },
    /**
     * The services' Redis settings for this profile: REDIS_URL, or REDIS_CLUSTER_NODES on a cluster,
     * where every primary has a replica that must hold a ticket's record before its 201.
     */
    redisEnv: (nodes.redis.length > 1
      ? { REDIS_CLUSTER_NODES: nodes.redis.map((node) => `127.0.0.1:${node.port}`).join(','), REDIS_WAIT_REPLICAS: '1' }
      : { REDIS_URL: `redis://127.0.0.1:${ports.redis}` }) as Record<string, string>,
    postgresUrl: `postgres://quickdeal:quickdeal@127.0.0.1:${ports.postgres}/quickdeal`,
  };
}

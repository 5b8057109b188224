/**
 * The local stacks QuickDeal runs: `dev` is what `quickdeal up` starts for a person,
 * `test` is what `npm test` starts. Each has its own ports and data, so both can run at once
 * and neither clashes with servers someone else runs on the machine's usual ports. `fault` holds
 * the Kafka and Redis that fault tests stop and restart, so other tests never see the outage.
 * Every port stays below 32768, where Linux hands out ephemeral ports for outgoing connections.
 */
export type ProfileName = 'dev' | 'test' | 'fault';

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
  return { name, ports };
}

/** Connection settings for the servers of a profile, in the shape the services' configuration takes. */
export function endpoints(name: ProfileName) {
  const { ports } = profile(name);
  return {
    kafkaBrokers: [`127.0.0.1:${ports.kafka}`],
    redisUrl: `redis://127.0.0.1:${ports.redis}`,
    postgresUrl: `postgres://quickdeal:quickdeal@127.0.0.1:${ports.postgres}/quickdeal`,
  };
}

// `npm run test:cluster`: the refresh lock on a real Sentinel group (1 master, 1 replica, 3 sentinels).
import { describeLockOn } from '../support/lock-topology-suite';
import { connectSentinelClient } from '../support/redis-clients';
import { requireRedisTopologyOrSkip, startRedisSentinel } from '../support/redis-topology';

// Skipped only locally without redis-server/redis-cli (requireRedisTopologyOrSkip throws in CI).
const describeTopology = requireRedisTopologyOrSkip() ? describe : describe.skip;

describeTopology('a Sentinel group', () => {
  describeLockOn('a Sentinel group (1 master, 1 replica, 3 sentinels)', async () => {
    const group = await startRedisSentinel();
    return {
      connect: (kind) => connectSentinelClient(kind, group.name, group.sentinelNodes),
      dataPorts: () => [group.master.port, group.replica.port],
      masterOf: async () => group.master.port,
      cli: group.cli,
      stop: group.stop,
    };
  });
});

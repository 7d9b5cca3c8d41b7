// `npm run test:cluster`: the refresh lock on a real 3-master + 3-replica Redis Cluster.
import { describeLockOn } from '../support/lock-topology-suite';
import { connectClusterClient } from '../support/redis-clients';
import { requireRedisTopologyOrSkip, startRedisCluster } from '../support/redis-topology';

// Skipped only locally without redis-server/redis-cli (requireRedisTopologyOrSkip throws in CI).
const describeTopology = requireRedisTopologyOrSkip() ? describe : describe.skip;

describeTopology('a Redis Cluster', () => {
  describeLockOn('a Redis Cluster (3 masters, 3 replicas)', async () => {
    const cluster = await startRedisCluster();
    return {
      connect: (kind) => connectClusterClient(kind, cluster.rootNodes),
      dataPorts: () => cluster.nodes.map((n) => n.port),
      masterOf: (key) => cluster.masterOf(key),
      cli: cluster.cli,
      stop: cluster.stop,
    };
  });
});

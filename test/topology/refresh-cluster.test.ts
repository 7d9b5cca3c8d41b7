// `npm run test:cluster`: the refresh end to end on a real 3-master + 3-replica Redis Cluster, in 4
// app processes (node-redis and ioredis clients): the storm, and a master killed mid-refresh.
import { describeRefreshOn } from '../support/refresh-topology-suite';
import { REDIS_CLIENT_KINDS } from '../support/redis-clients';
import { parseClusterNodes, requireRedisTopologyOrSkip, startRedisCluster } from '../support/redis-topology';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Skipped only locally without redis-server/redis-cli (requireRedisTopologyOrSkip throws in CI).
const describeTopology = requireRedisTopologyOrSkip() ? describe : describe.skip;

describeTopology('a Redis Cluster', () => {
  describeRefreshOn(
    'a Redis Cluster (3 masters, 3 replicas)',
    async () => {
      const cluster = await startRedisCluster();
      const target = { type: 'cluster' as const, rootNodes: cluster.rootNodes };
      const live = () => cluster.nodes.filter((n) => !n.dead());
      // One hash tag per client library, each on a different master (each failover test kills its own).
      const tags: string[] = [];
      const masters = new Set<number>();
      for (let i = 0; tags.length < REDIS_CLIENT_KINDS.length; i += 1) {
        const master = await cluster.masterOf(`{fo${i}}`);
        if (!masters.has(master)) tags.push(`fo${i}`);
        masters.add(master);
      }
      return {
        target: () => target,
        sidTag: async (kind) => tags[REDIS_CLIENT_KINDS.indexOf(kind)]!,
        async killMaster(_kind, tag) {
          const master = await cluster.masterOf(`{${tag}}`);
          const known = parseClusterNodes(await cluster.cli(master, 'CLUSTER', 'NODES'));
          const masterId = known.find((n) => n.port === master)!.id;
          const replica = known.find((n) => n.masterId === masterId && !n.flags.includes('fail'));
          if (!replica) throw new Error(`master ${master} has no replica`);
          // No automatic failover until promote(): the record writes must meet the dead master
          // (replication is asynchronous; here the writes come after the kill, so none can be on the replica).
          await cluster.cli(replica.port, 'CONFIG', 'SET', 'cluster-replica-no-failover', 'yes');
          await cluster.nodes.find((n) => n.port === master)!.kill();
          return {
            killed: master,
            async promote() {
              // A manual failover: the replica asks the other masters for their votes without its master.
              await cluster.cli(replica.port, 'CLUSTER', 'FAILOVER', 'FORCE');
              const end = Date.now() + 20_000;
              for (;;) {
                const promoted = await (async () => {
                  const mine = parseClusterNodes(await cluster.cli(replica.port, 'CLUSTER', 'NODES')).find((n) => n.flags.includes('myself'));
                  if (mine?.role !== 'master' || (await cluster.masterOf(`{${tag}}`)) !== replica.port) return false;
                  for (const node of live()) if (!/cluster_state:ok/.test(await cluster.cli(node.port, 'CLUSTER', 'INFO'))) return false;
                  return true;
                })().catch(() => false);
                if (promoted) break;
                if (Date.now() > end) throw new Error(`replica ${replica.port} was not promoted within 20 s`);
                await sleep(100);
              }
              await cluster.cli(replica.port, 'CONFIG', 'SET', 'cluster-replica-no-failover', 'no');
              return replica.port;
            },
          };
        },
        stop: cluster.stop,
      };
    },
    { failoverFailing: [] },
  );
});

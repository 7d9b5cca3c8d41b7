// `npm run test:cluster`: the refresh end to end on real Sentinel groups (1 master, 1 replica, 3
// sentinels; one group per client library, since a failover test uses up its group's replica), in
// 4 app processes: the storm, and the master killed mid-refresh.
import { describeRefreshOn } from '../support/refresh-topology-suite';
import { REDIS_CLIENT_KINDS } from '../support/redis-clients';
import { requireRedisTopologyOrSkip, startRedisSentinel } from '../support/redis-topology';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Skipped only locally without redis-server/redis-cli (requireRedisTopologyOrSkip throws in CI).
const describeTopology = requireRedisTopologyOrSkip() ? describe : describe.skip;

describeTopology('a Sentinel group', () => {
  describeRefreshOn(
    'Sentinel (1 master, 1 replica, 3 sentinels)',
    async () => {
      // down-after 60 s: no automatic failover while a test wants the master dead; promote() forces one.
      const groups = await Promise.all(REDIS_CLIENT_KINDS.map(() => startRedisSentinel({ downAfterMs: 60_000 })));
      const groupOf = (kind: (typeof REDIS_CLIENT_KINDS)[number]) => groups[REDIS_CLIENT_KINDS.indexOf(kind)]!;
      return {
        target: (kind) => ({ type: 'sentinel', name: groupOf(kind).name, sentinels: groupOf(kind).sentinelNodes }),
        sidTag: async () => 'fo',
        async killMaster(kind) {
          const group = groupOf(kind);
          await group.master.kill();
          return {
            killed: group.master.port,
            async promote() {
              const end = Date.now() + 20_000;
              let asked = false;
              for (;;) {
                const promoted = await (async () => {
                  // SENTINEL FAILOVER: promote without waiting for agreement (answers an error while one is in progress).
                  if (!asked) asked = /OK/.test(await group.cli(group.sentinels[0]!.port, 'SENTINEL', 'FAILOVER', group.name));
                  for (const s of group.sentinels) {
                    const addr = await group.cli(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', group.name);
                    if (addr.split('\n')[1]?.trim() !== String(group.replica.port)) return false;
                  }
                  return /role:master/.test(await group.cli(group.replica.port, 'INFO', 'replication'));
                })().catch(() => false);
                if (promoted) return group.replica.port;
                if (Date.now() > end) throw new Error(`replica ${group.replica.port} was not promoted within 20 s`);
                await sleep(100);
              }
            },
          };
        },
        stop: async () => void (await Promise.all(groups.map((g) => g.stop()))),
      };
    },
    { failoverFailing: [] },
  );
});

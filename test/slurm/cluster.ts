import { spawnSync } from 'node:child_process';

/**
 * Whether the test cluster (scripts/slurm-cluster.sh) answers. Slurm tests skip, saying how to start
 * it, only outside CI: in CI (.ci/run starts the cluster, CI=true) a missing cluster fails them.
 */
export function slurmSkipReason(): string | undefined {
  const r = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8' });
  const up = r.status === 0 && /idle|mix|alloc/.test(r.stdout);
  if (up) return undefined;
  const why = r.error ? 'sinfo is not installed' : `sinfo says: ${(r.stderr || r.stdout).trim() || 'no node up'}`;
  if (process.env.CI === 'true')
    throw new Error(
      `CI=true but the Slurm test cluster is not running (${why}): .ci/run starts it with scripts/slurm-cluster.sh start`,
    );
  return `the Slurm test cluster is not running (${why}); start it with: sudo scripts/slurm-cluster.sh start`;
}

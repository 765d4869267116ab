import type { BeatJobName } from "../../playbooks/types.ts";
import { digestJob } from "./digest.ts";
import { expireJob } from "./expire.ts";
import { hostsJob } from "./hosts.ts";
import { orphansJob } from "./orphans.ts";
import { pruneJob } from "./prune.ts";
import { reconcileJob } from "./reconcile.ts";
import type { BeatJob } from "./run.ts";

/**
 * Each beat job by name: the catalog the maintenance processor dispatches on and the beat
 * schedules from. digest is scheduled only when the playbook sets it (schedule.ts).
 */
export const beatJobs: Record<BeatJobName, BeatJob> = {
  expire: expireJob,
  hosts: hostsJob,
  reconcile: reconcileJob,
  orphans: orphansJob,
  prune: pruneJob,
  digest: digestJob,
};

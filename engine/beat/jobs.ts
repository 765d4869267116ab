import type { BeatJobName } from "../../playbooks/types.ts";
import { expireJob } from "./expire.ts";
import { hostsJob } from "./hosts.ts";
import { orphansJob } from "./orphans.ts";
import { reconcileJob } from "./reconcile.ts";
import type { BeatJob } from "./run.ts";

/**
 * Each beat job by name: the catalog the maintenance processor dispatches on and the beat
 * schedules from. prune and digest are not built yet: the playbook refuses them (schema/beat.ts).
 */
export const beatJobs: Partial<Record<BeatJobName, BeatJob>> = {
  expire: expireJob,
  hosts: hostsJob,
  reconcile: reconcileJob,
  orphans: orphansJob,
};

import type { Command } from "./command.ts";
import type { Environment } from "../playbooks/types.ts";
import { approversOf } from "../playbooks/resolve.ts";

/**
 * The action names of the playbook's `access` block, and what each command needs. `read` is
 * reading an environment's logs and config (production logs and config are not for everyone);
 * `status`, `releases`, `apps`, `hosts`, `queue` and `help` need nothing.
 */
export type AccessAction = "deploy" | "scale" | "rollback" | "config" | "lock" | "approve" | "read";

export function actionFor(kind: Command["kind"]): AccessAction | undefined {
  switch (kind) {
    case "deploy":
    case "restart":
    case "cancel":
    case "promote":
      return "deploy";
    case "rollback":
      return "rollback";
    case "scale":
      return "scale";
    case "config-set":
    case "config-unset":
      return "config";
    case "lock":
    case "unlock":
      return "lock";
    case "approve":
    case "reject":
      return "approve";
    case "logs":
    case "config":
    case "show":
    // A plan shows the config diff; whether the asker may run the change is part of its answer.
    case "plan":
      return "read";
    default:
      return undefined;
  }
}

/**
 * Who may do `action` in an environment. A missing list falls back to `deploy`'s (whoever may
 * deploy may also scale, roll back or read the logs unless the playbook says otherwise);
 * approvers come from `approval.approvers`, then `access.approve`, then `access.deploy`, the
 * first that names someone: with approval required and no approvers, not just anyone may approve.
 * An empty result means anyone.
 */
export function accessList(environment: Environment, action: AccessAction): string[] {
  const a = environment.access;
  switch (action) {
    case "approve":
      return approversOf(environment);
    case "deploy":
      return a.deploy ?? [];
    default:
      return a[action] ?? a.deploy ?? [];
  }
}

export function describeList(list: readonly string[]): string {
  return list.map((x) => (/^[UW][A-Z0-9]+$/.test(x) ? `<@${x}>` : x)).join(", ");
}

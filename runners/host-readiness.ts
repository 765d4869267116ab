/**
 * What a host needs before Raptor can run procs on it, as findings: the problem, and the fix in
 * one line. Pure; used by `hosts check` (engine/host-checks) and by the runner when a start fails
 * for the same reason, so both say the same thing.
 */
import { SupervisorError } from "./supervisor/xmlrpc-client.ts";

export interface Finding {
  problem: string;
  /** One line: what to change, where. */
  fix: string;
}

/** supervisord does not read `<root>/supervisor/*.conf`, so it never sees Raptor's program files. */
export function includeMissing(hostName: string, root: string): Finding {
  return {
    problem: `supervisord on ${hostName} does not read Raptor's program files (${root}/supervisor/*.conf)`,
    fix: `add \`[include]\` with \`files = ${root}/supervisor/*.conf\` to supervisord.conf on ${hostName}, then run \`supervisorctl update\``,
  };
}

/** An sshd without the sftp subsystem: uploads still work, through an exec channel. */
export function sftpMissing(hostName: string): Finding {
  return {
    problem: `sshd on ${hostName} has no sftp subsystem; uploads go through an SSH exec channel instead`,
    fix: `to use SFTP, add \`Subsystem sftp internal-sftp\` to sshd_config on ${hostName} and reload sshd`,
  };
}

/** The root cannot be created or written. */
export function rootNotWritable(hostName: string, root: string, user: string, detail: string): Finding {
  return {
    problem: `cannot write under ${root} on ${hostName}: ${detail}`,
    fix: `create ${root} on ${hostName}, owned by or writable for ${user}, or set the squad's root to a directory that is`,
  };
}

/** A supervisord call that failed for a reason a person can fix: credentials, reachability, time. */
export function supervisorFinding(err: unknown, hostName: string): Finding {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof SupervisorError) {
    switch (err.failure) {
      case "unauthorized":
        return { problem: message, fix: `set the squad's supervisor.username and password to the ones in [inet_http_server] of supervisord.conf on ${hostName}` };
      case "unreachable":
        return { problem: message, fix: `start supervisord on ${hostName} with an [inet_http_server] on the port of the squad's supervisor.url (${err.url})` };
      case "timeout":
        return { problem: message, fix: `check that supervisord on ${hostName} is not stuck, and that nothing between the workers and ${err.url} drops the connection` };
      default:
        break;
    }
  }
  return { problem: message, fix: `see supervisord's log on ${hostName}` };
}

/** The squad's proc user (or group) does not exist on the host: procs could not start as it. */
export function procUserMissing(hostName: string, user: string, group: string | undefined, what: "user" | "group"): Finding {
  const name = what === "user" ? user : group!;
  return {
    problem: `the ${what} \`${name}\` that procs run as does not exist on ${hostName}`,
    fix:
      what === "user"
        ? `create it on ${hostName}: \`useradd --system --user-group --no-create-home --shell /usr/sbin/nologin ${user}\`, or name another with the squad's \`user:\``
        : `create it on ${hostName}: \`groupadd --system ${name}\`, or change the squad's \`group:\``,
  };
}

import type { Squad } from "../playbooks/types.ts";
import { Limiter } from "../lib/concurrency.ts";
import { HostUnreachableError, type Host } from "./host.ts";
import { LocalHost } from "./local-host.ts";
import { SshHost } from "./ssh-host.ts";

/** What the pool needs from a squad: how to reach its hosts. */
export type SquadLike = Pick<Squad, "transport" | "ssh">;

/** A Host that reports the missing setting on first use, so `get` never throws. */
class MisconfiguredHost implements Host {
  constructor(readonly name: string, private readonly reason: string, private readonly fix: string) {}
  async exec(): Promise<never> {
    throw new HostUnreachableError(this.name, this.reason, this.fix);
  }
  async upload(): Promise<never> {
    throw new HostUnreachableError(this.name, this.reason, this.fix);
  }
  async close(): Promise<void> {}
}

/**
 * Remote operations one worker process runs at once on one host, by default: SSH channels (sshd's
 * MaxSessions defaults to 10 per connection, and the timeout kill needs one spare) and supervisord
 * XML-RPC calls (supervisord is single-threaded) each. `RAPTOR_HOST_OPS` changes it.
 */
export const DEFAULT_OPS_PER_HOST = 8;

/**
 * The Hosts of one worker process: one per (transport, host, port, user), created on first `get`
 * and kept, so every caller shares the one SSH connection per host. Owned by the composition root,
 * which calls `closeAll` on shutdown. It also holds the per-host limit on parallel remote
 * operations (issue 14, fault 5): however many deployments a worker runs, each host sees at most
 * `opsPerHost` SSH channels and `opsPerHost` supervisord calls from it at once.
 */
export class HostCache {
  private readonly hosts = new Map<string, Host>();
  private readonly limiters = new Map<string, Limiter>();
  readonly opsPerHost: number;

  constructor(o: { opsPerHost?: number } = {}) {
    this.opsPerHost = o.opsPerHost ?? DEFAULT_OPS_PER_HOST;
  }

  /** The limiter for supervisord calls to `hostName` (shared by every caller in this process). */
  supervisorLimiter(hostName: string): Limiter {
    let l = this.limiters.get(hostName);
    if (!l) {
      l = new Limiter(this.opsPerHost);
      this.limiters.set(hostName, l);
    }
    return l;
  }

  get(squad: SquadLike, hostName: string): Host {
    const key =
      squad.transport === "local"
        ? `local|${hostName}`
        : `ssh|${hostName}|${squad.ssh.port}|${squad.ssh.user}|${squad.ssh.key ?? ""}|${squad.ssh.known_hosts ?? ""}`;
    let host = this.hosts.get(key);
    if (!host) {
      host = this.create(squad, hostName);
      this.hosts.set(key, host);
    }
    return host;
  }

  async closeAll(): Promise<void> {
    const all = [...this.hosts.values()];
    this.hosts.clear();
    await Promise.allSettled(all.map((h) => h.close()));
  }

  private create(squad: SquadLike, hostName: string): Host {
    switch (squad.transport) {
      case "local":
        return new LocalHost(hostName);
      case "ssh": {
        const { user, port, key, known_hosts } = squad.ssh;
        if (!key) return new MisconfiguredHost(hostName, "no SSH private key is configured for the squad (ssh.key)", "set the squad's ssh.key to the path of the private key Raptor logs in with");
        if (!known_hosts) {
          return new MisconfiguredHost(
            hostName,
            "no known_hosts file is configured for the squad (ssh.known_hosts); host keys must be verified",
            "set the squad's ssh.known_hosts to a file holding the hosts' keys (ssh-keyscan writes one)",
          );
        }
        return new SshHost({ host: hostName, port, user, keyPath: key, knownHostsPath: known_hosts, maxChannels: this.opsPerHost });
      }
      default: {
        const never: never = squad.transport;
        throw new Error(`unknown transport ${String(never)}`);
      }
    }
  }
}

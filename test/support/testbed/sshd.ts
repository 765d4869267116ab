/** One testbed host's sshd: key auth only, its own host key, listening on the host's loopback address. */
import { execFile, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { readTail, spawnDaemon, waitForPort } from "./processes.ts";

const SSHD = "/usr/sbin/sshd"; // absolute: sshd re-execs itself and refuses a relative path
const run = promisify(execFile);

/** What the sshd of a host needs: its address and port, its config dir (`etc`), and the running daemon. */
export interface SshdHost {
  name: string;
  sshPort: number;
  etc: string;
  sshd?: ChildProcess;
}

/** `sftp: false` leaves out the sftp subsystem, as some hardened hosts do. */
export function sshdConfig(h: SshdHost, dir: string, o: { sftp?: boolean } = {}): string {
  return [
    `ListenAddress ${h.name}`,
    `Port ${h.sshPort}`,
    `HostKey ${join(h.etc, "ssh_host_ed25519_key")}`,
    `AuthorizedKeysFile ${join(dir, "client", "authorized_keys")}`,
    `PidFile ${join(h.etc, "sshd.pid")}`,
    `PermitRootLogin prohibit-password`,
    `PubkeyAuthentication yes`,
    `PasswordAuthentication no`,
    `KbdInteractiveAuthentication no`,
    `UsePAM no`,
    `StrictModes no`,
    `UseDNS no`,
    `PrintMotd no`,
    `LogLevel VERBOSE`,
    // A pooled connection runs several commands at once; real hosts default to 10.
    `MaxSessions 20`,
    `MaxStartups 100`,
    ...(o.sftp === false ? [] : [`Subsystem sftp internal-sftp`]),
    // bash run by sshd sources ~/.bashrc only at SHLVL < 2; this machine's root .bashrc runs
    // `pyenv init` (~150 ms a command). Real deploy users have light rc files; keep the bed fast.
    `SetEnv SHLVL=1`,
    ``,
  ].join("\n");
}

export async function keygen(path: string): Promise<void> {
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "raptor-testbed", "-f", path]);
}

export async function startSshdOn(h: SshdHost): Promise<void> {
  const conf = join(h.etc, "sshd_config");
  h.sshd = spawnDaemon(SSHD, ["-D", "-f", conf, "-E", join(h.etc, "sshd.log")], join(h.etc, "sshd.stderr"));
  await waitForPort(h.name, h.sshPort, h.sshd, () => readTail(join(h.etc, "sshd.log")));
}

/** The host's known_hosts line (`[name]:port type key`), from its host key. */
export async function knownHostsLine(h: SshdHost): Promise<string> {
  const [type, key] = (await readFile(join(h.etc, "ssh_host_ed25519_key.pub"), "utf8")).split(" ");
  return `[${h.name}]:${h.sshPort} ${type} ${key}\n`;
}

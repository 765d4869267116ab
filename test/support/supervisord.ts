/**
 * A supervisord of a test file's own (not a testbed host's): its config, log and pid file in a
 * directory the caller owns, XML-RPC on a free port of `host`, programs included from `include`.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { createSupervisor } from "../../runners/supervisor/xmlrpc-client.ts";
import type { Supervisor } from "../../runners/supervisor/types.ts";

export interface OwnSupervisord {
  /** `http://<host>:<port>/RPC2`, without credentials. */
  url: string;
  username: string;
  password: string;
  /** A client with the credentials. */
  sup: Supervisor;
  /** Stops supervisord (and its programs) and waits for it to exit; the directory is the caller's. */
  stop(): Promise<void>;
}

/** A port nothing listens on right now. */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, host, r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts supervisord and resolves once it answers XML-RPC (rejects if it exits first). */
export async function startSupervisord(o: {
  /** Where supervisord.conf, its log and pid file go (an existing directory). */
  dir: string;
  /** The `[include] files=` glob: where programs are configured. */
  include: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** The client's call timeout. */
  timeoutMs: number;
}): Promise<OwnSupervisord> {
  const host = o.host ?? "127.0.0.1";
  const port = await freePort(host);
  const username = "raptor";
  const password = randomBytes(8).toString("hex");
  const conf = join(o.dir, "supervisord.conf");
  writeFileSync(
    conf,
    [
      "[supervisord]",
      `logfile=${o.dir}/supervisord.log`,
      `pidfile=${o.dir}/supervisord.pid`,
      `childlogdir=${o.dir}`,
      "[inet_http_server]",
      `port=${host}:${port}`,
      `username=${username}`,
      `password=${password}`,
      "[rpcinterface:supervisor]",
      "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
      "[include]",
      `files=${o.include}`,
      "",
    ].join("\n"),
  );
  const child = spawn("supervisord", ["-n", "-c", conf], { stdio: "ignore" });
  const url = `http://${host}:${port}/RPC2`;
  const sup = createSupervisor({ url, username, password, timeoutMs: o.timeoutMs });
  // Poll until it answers: supervisord gives no other sign that it is ready.
  for (let i = 0; ; i++) {
    try {
      await sup.getAllProcessInfo();
      break;
    } catch (e) {
      if (i > 100 || child.exitCode !== null) {
        child.kill("SIGTERM"); // the caller gets no handle to stop it with
        throw e;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    username,
    password,
    sup,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

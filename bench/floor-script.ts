/**
 * The hand-run script bench/floor.ts measures Raptor against (issue 14): what an operator would
 * write with plain ssh2, SFTP and supervisord's XML-RPC to do a deployment's work on already-built
 * code. Per deployment: a fresh SSH connection per host (a script does not keep connections
 * between runs), the build's md5 checked (uploaded only when it differs), each proc laid out (one
 * shell command to unpack the build, five SFTP writes, one to chown), one reloadConfig per host,
 * add + start (wait=true, so supervisord says when it is RUNNING), the port waited for, the app's
 * uptest run as the proc's user with its env, the balancer's pool updated (a Redis set, like
 * Raptor's memory balancer), then the old procs stopped and removed.
 *
 * Benchmark code only: shell strings are built here from names and paths this file chose.
 */
import type { Redis } from "ioredis";
import { Client, type SFTPWrapper } from "ssh2";
import { readFileSync } from "node:fs";
import xmlrpc from "xmlrpc";

export interface ScriptHost {
  name: string;
  sshPort: number;
  supervisorUrl: string;
  root: string;
}

export interface ScriptProc {
  host: string;
  port: number;
  name: string;
}

export interface ScriptPlan {
  hosts: ScriptHost[];
  ssh: { user: string; keyPath: string };
  supervisor: { username: string; password: string };
  build: { id: string; md5: string; localPath: string };
  cmd: string;
  env: Record<string, string>;
  user: string;
  procs: ScriptProc[];
  old: ScriptProc[];
  redis: Redis;
  poolKey: string;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function connect(h: ScriptHost, plan: ScriptPlan): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.on("ready", () => resolve(c)).on("error", reject);
    c.connect({ host: h.name, port: h.sshPort, username: plan.ssh.user, privateKey: readFileSync(plan.ssh.keyPath), hostVerifier: () => true });
  });
}

function sh(c: Client, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    c.exec(command, (err, ch) => {
      if (err) return reject(err);
      let out = "";
      let errOut = "";
      ch.on("data", (d: Buffer) => (out += d)).stderr.on("data", (d: Buffer) => (errOut += d));
      ch.on("close", (code: number) => (code === 0 ? resolve(out) : reject(new Error(`${command}: exit ${code}: ${errOut}`))));
    });
  });
}

function sftpOf(c: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => c.sftp((err, s) => (err ? reject(err) : resolve(s))));
}

function put(s: SFTPWrapper, path: string, body: string, mode: number): Promise<void> {
  return new Promise((resolve, reject) => s.writeFile(path, body, { mode }, (err) => (err ? reject(err) : resolve())));
}

function rpc<T>(h: ScriptHost, plan: ScriptPlan, method: string, params: unknown[]): Promise<T> {
  const u = new URL(h.supervisorUrl);
  const client = xmlrpc.createClient({ host: u.hostname, port: Number(u.port), path: u.pathname, basic_auth: { user: plan.supervisor.username, pass: plan.supervisor.password } });
  return new Promise((resolve, reject) => client.methodCall(method, params, (err: unknown, v: unknown) => (err ? reject(err) : resolve(v as T))));
}

async function waitPort(host: string, port: number): Promise<void> {
  const { connect: tcp } = await import("node:net");
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = tcp({ host, port });
      s.once("connect", () => (s.destroy(), r(true)));
      s.once("error", () => (s.destroy(), r(false)));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One deployment by the script. Throws on the first failure (a script would stop there too). */
export async function scriptDeploy(plan: ScriptPlan): Promise<void> {
  const conns = new Map<string, Client>();
  try {
    await Promise.all(
      plan.hosts.map(async (h) => {
        const mine = plan.procs.filter((p) => p.host === h.name);
        if (mine.length === 0 && !plan.old.some((p) => p.host === h.name)) return;
        const c = await connect(h, plan);
        conns.set(h.name, c);
        if (mine.length === 0) return;
        const sftp = await sftpOf(c);
        const tarball = `${h.root}/builds/${plan.build.id}.tar.gz`;
        const md5 = (await sh(c, `md5sum ${q(tarball)} 2>/dev/null || true`)).split(/\s/)[0];
        if (md5 !== plan.build.md5) {
          await new Promise<void>((resolve, reject) => sftp.fastPut(plan.build.localPath, tarball, (err) => (err ? reject(err) : resolve())));
        }
        for (const p of mine) {
          const dir = `${h.root}/procs/${p.name}`;
          const env = { ...plan.env, HOST: h.name, PORT: String(p.port), APP_SETTINGS_YAML: `${dir}/settings.yaml` };
          await sh(c, `rm -rf ${q(dir)} && mkdir -p ${q(`${dir}/.raptor`)} ${q(`${h.root}/supervisor`)} ${q(`${h.root}/logs`)} && tar -xzf ${q(tarball)} -C ${q(dir)} --no-same-owner`);
          await put(sftp, `${dir}/.raptor/env`, Object.entries(env).map(([k, v]) => `export ${k}=${q(v)}\n`).join(""), 0o600);
          await put(sftp, `${dir}/.raptor/run.sh`, `#!/bin/sh\nset -e\ncd ${q(dir)}\n. ${q(`${dir}/.raptor/env`)}\nexec /bin/sh -c ${q(plan.cmd)}\n`, 0o700);
          await put(sftp, `${dir}/proc.yaml`, `port: ${p.port}\nhost: ${h.name}\ncmd: ${JSON.stringify(plan.cmd)}\n`, 0o600);
          await put(sftp, `${dir}/settings.yaml`, "{}\n", 0o600);
          await sh(c, `chmod 0700 ${q(`${dir}/.raptor/run.sh`)} && chown -R -h ${plan.user}:${plan.user} ${q(dir)} && chmod 0700 ${q(dir)}`);
          const conf = [
            `[program:${p.name}]`,
            `command=${dir}/.raptor/run.sh`,
            `directory=${dir}`,
            `user=${plan.user}`,
            "autostart=false",
            "autorestart=true",
            "startsecs=1",
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
            `stdout_logfile=${h.root}/logs/${p.name}.log`,
            "",
          ].join("\n");
          await put(sftp, `${h.root}/supervisor/${p.name}.conf`, conf, 0o600);
        }
        await rpc(h, plan, "supervisor.reloadConfig", []);
        for (const p of mine) await rpc(h, plan, "supervisor.addProcessGroup", [p.name]);
        await Promise.all(
          mine.map(async (p) => {
            await rpc(h, plan, "supervisor.startProcess", [p.name, true]);
            await waitPort(h.name, p.port);
            const dir = `${h.root}/procs/${p.name}`;
            await sh(c, `cd ${q(dir)} && setpriv --reuid ${plan.user} --regid ${plan.user} --init-groups -- sh -c '. .raptor/env; exec ./uptests/web/http "$1" "$2"' sh ${h.name} ${p.port}`);
          }),
        );
      }),
    );
    const nodes = (list: ScriptProc[]) => list.map((p) => `${p.host}:${p.port}`);
    if (plan.procs.length) await plan.redis.sadd(plan.poolKey, ...nodes(plan.procs));
    if (plan.old.length) await plan.redis.srem(plan.poolKey, ...nodes(plan.old));
    await Promise.all(
      plan.hosts.map(async (h) => {
        const gone = plan.old.filter((p) => p.host === h.name);
        if (gone.length === 0) return;
        for (const p of gone) {
          await rpc(h, plan, "supervisor.stopProcess", [p.name, true]).catch(() => {});
          await rpc(h, plan, "supervisor.removeProcessGroup", [p.name]).catch(() => {});
        }
        await sh(conns.get(h.name)!, `rm -rf ${gone.flatMap((p) => [`${h.root}/procs/${p.name}`, `${h.root}/supervisor/${p.name}.conf`, `${h.root}/logs/${p.name}.log`]).map(q).join(" ")}`);
      }),
    );
  } finally {
    for (const c of conns.values()) c.end();
  }
}

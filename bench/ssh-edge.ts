/**
 * bench/ssh-edge: the cost of one remote operation on a warm SSH connection (issue 14, fault 1).
 * One real sshd on loopback; the same SshHost with TCP_NODELAY off (Nagle's algorithm, the old
 * behaviour) and on (Raptor's default), rounds alternated, medians of each.
 * Figures: a command that prints nothing, and a 300-byte upload.
 */
import { SshHost } from "../runners/ssh-host.ts";
import { startTestbed } from "../test/support/testbed.ts";

const OPS = Number(process.env.BENCH_OPS ?? 40);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timeOps(host: SshHost, dir: string): Promise<{ exec: number; upload: number }> {
  const exec: number[] = [];
  const upload: number[] = [];
  const body = Buffer.alloc(300, "x");
  for (let i = 0; i < OPS; i++) {
    let t0 = performance.now();
    await host.exec(["true"]);
    exec.push(performance.now() - t0);
    t0 = performance.now();
    await host.upload(body, `${dir}/f${i % 4}`);
    upload.push(performance.now() - t0);
  }
  return { exec: median(exec), upload: median(upload) };
}

async function main() {
  const bed = await startTestbed({ hosts: 1 });
  const h = bed.hosts[0]!;
  const make = (noDelay: boolean) =>
    new SshHost({ host: h.name, port: h.sshPort, user: bed.user, keyPath: bed.sshKeyPath, knownHostsPath: bed.knownHostsPath, noDelay });
  const hosts = { nagle: make(false), nodelay: make(true) };
  const got = { nagle: [] as { exec: number; upload: number }[], nodelay: [] as { exec: number; upload: number }[] };
  try {
    for (const host of Object.values(hosts)) await host.exec(["mkdir", "-p", `${h.root}/bench`]); // warm: connect
    for (let r = 0; r < ROUNDS; r++) {
      for (const k of r % 2 ? (["nodelay", "nagle"] as const) : (["nagle", "nodelay"] as const)) {
        got[k].push(await timeOps(hosts[k], `${h.root}/bench`));
      }
    }
  } finally {
    for (const host of Object.values(hosts)) await host.close();
    await bed.stop();
  }
  const m = (k: keyof typeof got, f: "exec" | "upload") => median(got[k].map((x) => x[f]));
  console.log(`ssh-edge (${ROUNDS} rounds x ${OPS} ops, warm connection, medians)`);
  for (const f of ["exec", "upload"] as const) {
    const label = f === "exec" ? "command printing nothing" : "300-byte upload        ";
    console.log(`  ${label}  Nagle ${m("nagle", f).toFixed(1)} ms   TCP_NODELAY ${m("nodelay", f).toFixed(1)} ms   ratio ${(m("nodelay", f) / m("nagle", f)).toFixed(2)}`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

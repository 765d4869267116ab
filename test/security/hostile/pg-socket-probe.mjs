// What a proc on Raptor's machine tries against the embedded database (run as another user):
// every abstract unix socket named like Raptor's (their names are public in /proc/net/unix) and
// the socket files given as arguments. For each it sends a Postgres startup message and prints
// one JSON line: the target and what came back ("refused: <code>", "answered: <first byte>", "silent").
import { readFileSync } from "node:fs";
import { connect } from "node:net";

const abstract = readFileSync("/proc/net/unix", "utf8")
  .split("\n")
  .map((line) => line.trim().split(/\s+/)[7])
  .filter((p) => p && p.startsWith("@raptor-pglite-"))
  // The name as the kernel holds it: NUL-padded (node binds the whole sun_path), each NUL shown as @.
  .map((p) => p.replace(/@/g, "\0"));
const targets = [...new Set(abstract), ...process.argv.slice(2)];

function startup() {
  const body = Buffer.from("user\0postgres\0database\0postgres\0\0");
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(196608, 4);
  return Buffer.concat([head, body]);
}

for (const target of targets) {
  const result = await new Promise((resolve) => {
    const s = connect(target);
    const done = (r) => {
      s.destroy();
      resolve(r);
    };
    s.once("error", (e) => done(`refused: ${e.code}`));
    s.once("connect", () => s.write(startup()));
    s.once("data", (d) => done(`answered: ${String.fromCharCode(d[0])}`));
    // An answer to a startup message comes at once; none within 1.5 s is none.
    s.setTimeout(1500, () => done("silent"));
  });
  console.log(JSON.stringify({ target: target.replace(/\0+$/, "").replace("\0", "@"), result }));
}
console.log(JSON.stringify({ probed: targets.length }));

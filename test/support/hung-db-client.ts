/**
 * A process that hangs inside a transaction on the embedded database, as a `raptor say` stopped
 * with Ctrl-Z (or by a debugger) mid-transaction would: it connects to the owner's socket
 * (argv[2]), opens a transaction, writes a row into `hung_probe`, prints "inside", then stops
 * itself with SIGSTOP. Its connection stays open and sends nothing more. Run with `--import tsx`.
 */
import postgres from "postgres";

const sql = postgres({ path: process.argv[2], username: "postgres", database: "postgres", max: 1, prepare: false, onnotice: () => {}, connection: { application_name: "hung-say" } });
await sql
  .begin(async (tx) => {
    await tx`insert into hung_probe values (1)`;
    process.stdout.write("inside\n", () => process.kill(process.pid, "SIGSTOP"));
    await new Promise(() => {});
  })
  .catch(() => {});

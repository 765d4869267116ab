import { describe, expect, it } from "vitest";
import { MessageSplitter, ReadyScanner } from "../../db/embedded/wire-server.ts";

const msg = (type: string, body: Buffer) => {
  const m = Buffer.alloc(5 + body.length);
  m.write(type, 0, "ascii");
  m.writeInt32BE(4 + body.length, 1);
  body.copy(m, 5);
  return m;
};
const startup = () => {
  const body = Buffer.from("user\0postgres\0\0");
  const m = Buffer.alloc(8 + body.length);
  m.writeInt32BE(8 + body.length, 0);
  m.writeInt32BE(196608, 4);
  body.copy(m, 8);
  return m;
};

describe("ReadyScanner: the backend's transaction status from its output, chunked anyhow", () => {
  const stream = Buffer.concat([msg("C", Buffer.from("BEGIN\0")), msg("Z", Buffer.from("T")), msg("D", Buffer.alloc(300, 0x5a)), msg("Z", Buffer.from("I"))]);
  for (const size of [1, 2, 3, 5, 7, 64, stream.length]) {
    it(`chunks of ${size} bytes`, () => {
      const s = new ReadyScanner();
      const statuses: (string | undefined)[] = [];
      for (let i = 0; i < stream.length; i += size) {
        s.feed(stream.subarray(i, i + size));
        if (s.seen) statuses.push(s.status);
        s.reset();
      }
      // A data row full of "Z" bytes is not a ReadyForQuery; in one chunk only the last status shows.
      expect(statuses).toEqual(size === stream.length ? ["I"] : ["T", "I"]);
    });
  }
});

describe("MessageSplitter", () => {
  it("splits the startup message, then typed messages, across chunk boundaries", () => {
    const all = Buffer.concat([startup(), msg("P", Buffer.from("\0select 1\0\0\0")), msg("S", Buffer.alloc(0))]);
    const sp = new MessageSplitter();
    const got: { startup: boolean; type: string }[] = [];
    for (let i = 0; i < all.length; i += 3) for (const m of sp.push(all.subarray(i, i + 3))) got.push({ startup: m.startup, type: m.startup ? "" : String.fromCharCode(m.message[0]!) });
    expect(got).toEqual([{ startup: true, type: "" }, { startup: false, type: "P" }, { startup: false, type: "S" }]);
  });
});

describe("PgliteWireServer: a client idle in a transaction cannot block the others", () => {
  it("drops the hung client after idleInTransactionMs, rolls its transaction back, logs why, and serves the next client", async () => {
    const { PGlite } = await import("@electric-sql/pglite");
    const { default: postgres } = await import("postgres");
    const { PgliteWireServer } = await import("../../db/embedded/wire-server.ts");
    const warnings: string[] = [];
    const server = new PgliteWireServer({ warn: (_o, m) => warnings.push(m ?? "") }, { idleInTransactionMs: 500 });
    const path = `\0raptor-test-idle-${process.pid}`;
    await server.listen(path);
    server.attach(await PGlite.create());
    const opts = { path, username: "postgres", database: "postgres", max: 1, prepare: false, onnotice: () => {} } as const;
    const hung = postgres({ ...opts, connection: { application_name: "hung-client" } });
    const other = postgres(opts);
    let release!: () => void;
    try {
      await other`create table t (n int)`;
      let entered!: () => void;
      const inside = new Promise<void>((r) => (entered = r));
      // Held until the other client was answered (only the drop can answer it), then the hung
      // client tries to commit; a fixed 60 s sleep here kept the test waiting for it to end.
      const held = new Promise<void>((r) => (release = r));
      // Opens a transaction, writes, then hangs (never commits, never sends anything).
      const hanging = hung.begin(async (tx) => {
        await tx`insert into t values (1)`;
        entered();
        await held;
      });
      hanging.catch(() => {});
      await inside;
      const t0 = Date.now();
      // Waits for the session the hung client holds; answered once it is dropped.
      const [row] = await other`select count(*)::int as n from t`;
      expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
      expect(row!.n).toBe(0);
      release();
      // postgres.js reports a connection closed under a transaction it still holds.
      await expect(hanging).rejects.toThrow(/idle-in-transaction timeout|CONNECTION_CLOSED/);
      expect(warnings.join("\n")).toMatch(/dropped client "hung-client", which held the database idle in a transaction for 1s; its transaction was rolled back/);
    } finally {
      release?.();
      await hung.end({ timeout: 1 }).catch(() => {});
      await other.end({ timeout: 1 });
      await server.close(async () => {});
    }
  }, 60_000);
});

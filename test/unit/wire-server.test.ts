import { describe, expect, it } from "vitest";
import { MessageSplitter, ReadyScanner } from "../../db/embedded/wire-server.ts";
import { FRONTEND_TYPES, MAX_MESSAGE_LENGTH, startupLength, typedLength } from "../../db/embedded/protocol.ts";
import { RawClient, queryFrame, startupFrame, typedFrame } from "../support/raw-pg.ts";

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

const header = (...ints: number[]) => {
  const b = Buffer.alloc(4 * ints.length);
  ints.forEach((n, i) => b.writeInt32BE(n, 4 * i));
  return b;
};
const typedHeader = (type: string, len: number) => Buffer.concat([Buffer.from(type, "latin1"), header(len)]);

describe("frame checks, per the protocol's Message Formats (red team M1)", () => {
  const startupCases: [string, Buffer, number | string][] = [
    ["SSLRequest", header(8, 80877103), 8],
    ["GSSENCRequest", header(8, 80877104), 8],
    ["CancelRequest", header(16, 80877102), 16],
    ["StartupMessage v3.0", header(40, 196608), 40],
    ["the report's: a StartupMessage claiming length 0", header(0, 196608), /08P01.*invalid length of startup packet: 0/.source],
    ["length 4", header(4, 196608), "08P01"],
    ["length 8: no room for the terminator", header(8, 196608), "08P01"],
    ["length -1", header(-1, 196608), "08P01"],
    ["longer than Postgres' 10,000", header(10_001, 196608), "08P01"],
    ["an SSLRequest of 12 bytes", header(12, 80877103), "08P01"],
    ["a CancelRequest of 8 bytes", header(8, 80877102), "08P01"],
    ["protocol 2.0", header(40, 131072), /0A000.*unsupported frontend protocol 2.0/.source],
    ["protocol 3.2", header(40, 196610), "0A000"],
  ];
  for (const [name, h, want] of startupCases) {
    it(`startup: ${name}`, () => {
      if (typeof want === "number") return void expect(startupLength(h)).toBe(want);
      let got = "";
      try {
        startupLength(h);
      } catch (err) {
        got = `${(err as { code: string }).code} ${(err as Error).message}`;
      }
      expect(got).toMatch(new RegExp(want));
    });
  }
  const typedCases: [string, Buffer, number | string][] = [
    ["Sync", typedHeader("S", 4), 5],
    ["Query of 1 MB", typedHeader("Q", 1_000_000), 1_000_001],
    ["at the bound", typedHeader("Q", MAX_MESSAGE_LENGTH), MAX_MESSAGE_LENGTH + 1],
    ["the report's: a Query of length -1", typedHeader("Q", -1), /08P01.*invalid message length -1/.source],
    ["length 3", typedHeader("Q", 3), "08P01"],
    ["length 0", typedHeader("S", 0), "08P01"],
    ["over the bound", typedHeader("Q", MAX_MESSAGE_LENGTH + 1), "08P01"],
    ["2^31 - 1", typedHeader("P", 0x7fffffff), "08P01"],
    ["type 'q' (PGlite never answers it)", typedHeader("q", 4), /08P01.*invalid frontend message type 113/.source],
    ["type 'p' (a password nobody asked for; PGlite never answers it)", typedHeader("p", 9), "08P01"],
  ];
  for (const [name, h, want] of typedCases) {
    it(`typed: ${name}`, () => {
      if (typeof want === "number") return void expect(typedLength(h, FRONTEND_TYPES)).toBe(want);
      let got = "";
      try {
        typedLength(h, FRONTEND_TYPES);
      } catch (err) {
        got = `${(err as { code: string }).code} ${(err as Error).message}`;
      }
      expect(got).toMatch(new RegExp(want));
    });
  }

  it("the splitter stops at the first bad frame, keeps what came before it, and never loops or reads past a message", () => {
    const sp = new MessageSplitter({ types: FRONTEND_TYPES });
    const got = sp.push(Buffer.concat([startup(), queryFrame("select 1"), typedFrame("Q", Buffer.alloc(0), -1), queryFrame("select 2")]));
    expect(got.map((m) => m.startup)).toEqual([true, false]);
    expect(sp.violation?.message).toMatch(/invalid message length -1/);
    expect(sp.push(queryFrame("select 3"))).toEqual([]);
    const sp0 = new MessageSplitter();
    expect(sp0.push(header(0, 196608))).toEqual([]);
    expect(sp0.violation?.code).toBe("08P01");
  });

  it("a large message in small chunks is joined once (not copied at every chunk)", () => {
    const big = queryFrame(`select '${"x".repeat(4_000_000)}'`);
    const sp = new MessageSplitter({ startup: false });
    const t0 = Date.now();
    let got: Buffer | undefined;
    for (let i = 0; i < big.length; i += 1024) for (const m of sp.push(big.subarray(i, i + 1024))) got = m.message;
    expect(got?.equals(big)).toBe(true);
    // Joining at every chunk copied ~8 GB here (seconds); once, a few ms.
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

/** A real wire server on PGlite, on an abstract socket; `fn` gets its path and a postgres.js client. */
async function withServer(opts: { idleInTransactionMs: number }, fn: (s: { path: string; sql: import("postgres").Sql; warnings: string[] }) => Promise<void>) {
  const { PGlite } = await import("@electric-sql/pglite");
  const { default: postgres } = await import("postgres");
  const { PgliteWireServer } = await import("../../db/embedded/wire-server.ts");
  const warnings: string[] = [];
  const server = new PgliteWireServer({ warn: (_o, m) => warnings.push(m ?? "") }, opts);
  const path = `\0raptor-test-wire-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await server.listen(path);
  server.attach(await PGlite.create());
  const sql = postgres({ path, username: "postgres", database: "postgres", max: 1, prepare: false, onnotice: () => {} });
  try {
    await fn({ path, sql, warnings });
  } finally {
    await sql.end({ timeout: 1 });
    await server.close(async () => {});
  }
}

describe("PgliteWireServer: a malformed frame ends that client only (red team M1)", () => {
  const bad: [string, (c: RawClient) => Promise<void>, RegExp][] = [
    ["the report's 8 bytes: a startup message claiming length 0", async (c) => c.write(header(0, 196608)), /invalid length of startup packet: 0/],
    [
      "the report's 5 bytes after a normal startup: a Query of length -1",
      async (c) => {
        c.write(startupFrame());
        await c.ready(1);
        c.write(typedFrame("Q", Buffer.alloc(0), -1));
      },
      /invalid message length -1/,
    ],
    [
      "a message type PGlite never answers ('q'), inside a transaction",
      async (c) => {
        c.write(startupFrame());
        await c.ready(1);
        c.write(queryFrame("begin; insert into probe values (1)"));
        await c.ready(2);
        c.write(typedFrame("q", Buffer.alloc(0)));
      },
      /invalid frontend message type 113/,
    ],
    ["a startup message claiming 2 GB", async (c) => c.write(header(0x7fffffff, 196608)), /invalid length of startup packet/],
    ["protocol 2.0", async (c) => c.write(header(40, 131072)), /unsupported frontend protocol 2.0/],
  ];
  for (const [name, send, message] of bad) {
    it(name, async () => {
      await withServer({ idleInTransactionMs: 30_000 }, async ({ path, sql, warnings }) => {
        await sql`create table probe (n int)`;
        const rss0 = process.memoryUsage().rss;
        const c = await new RawClient(path).connected();
        await send(c);
        await c.closedWithin(5_000);
        expect(c.errors().at(-1)).toMatchObject({ S: "FATAL", M: expect.stringMatching(message) });
        expect(warnings.join("\n")).toMatch(/broke the wire protocol/);
        // The server goes on, nothing the bad client wrote stays, and it grew no memory.
        expect(await sql`select count(*)::int as n from probe`).toEqual([{ n: 0 }]);
        expect(process.memoryUsage().rss - rss0).toBeLessThan(100 * 1024 * 1024);
      });
    }, 60_000);
  }
});

/**
 * A raw client named `name`, started up, inside a transaction that inserted 1 into a new table
 * `probe`: what a rollback must undo.
 */
async function inTransaction(path: string, sql: import("postgres").Sql, name: string): Promise<RawClient> {
  await sql`create table probe (n int)`;
  const c = await new RawClient(path).connected();
  c.write(startupFrame(name));
  await c.ready(1);
  c.write(queryFrame("begin; insert into probe values (1)"));
  await c.ready(2);
  return c;
}

describe("PgliteWireServer: the idle timer counts whole messages, and a client that dies mid-statement lets go when it ends (red team M2)", () => {
  it("a client trickling one byte of its next message at a time inside a transaction is dropped on time, as if silent", async () => {
    await withServer({ idleInTransactionMs: 600 }, async ({ path, sql, warnings }) => {
      const c = await inTransaction(path, sql, "trickler");
      // The report's trickle, scaled down: one byte of its next message every 200 ms (the timeout
      // is 600 ms). Its 70 bytes take 14 s: a timer reset by bytes dropped it only after all of them.
      const next = queryFrame(`select 1 ${" ".repeat(55)}`);
      let i = 0;
      const trickle = setInterval(() => i < next.length - 1 && !c.closed && c.write(next.subarray(i, ++i)), 200);
      try {
        const t0 = Date.now();
        const rows = await sql`select count(*)::int as n from probe`;
        const waited = Date.now() - t0;
        expect(rows).toEqual([{ n: 0 }]);
        expect(waited).toBeLessThan(6_000);
        expect(i).toBeLessThan(next.length - 1);
        await c.closedWithin(1_000);
        expect(c.errors().at(-1)).toMatchObject({ C: "25P03" });
        expect(warnings.join("\n")).toMatch(/dropped client "trickler", which held the database idle in a transaction/);
      } finally {
        clearInterval(trickle);
        c.destroy();
      }
    });
  }, 60_000);

  it("a client killed during a long statement in a transaction: rolled back and the session handed on when the statement ends, not at the idle timeout", async () => {
    await withServer({ idleInTransactionMs: 20_000 }, async ({ path, sql }) => {
      const c = await inTransaction(path, sql, "dies");
      c.write(queryFrame("select pg_sleep(2)"));
      // Gone while its statement runs (PGlite runs it on the owner's thread, so this lands after).
      setTimeout(() => c.destroy(), 300);
      await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      const rows = await sql`select count(*)::int as n from probe`;
      expect(rows).toEqual([{ n: 0 }]);
      expect(Date.now() - t0).toBeLessThan(5_000);
    });
  }, 60_000);

  it("what a killed client had queued behind its long statement is not run: its transaction is rolled back, never committed", async () => {
    await withServer({ idleInTransactionMs: 20_000 }, async ({ path, sql }) => {
      const c = await inTransaction(path, sql, "dies");
      c.write(Buffer.concat([queryFrame("select pg_sleep(1.5)"), queryFrame("insert into probe values (2)"), queryFrame("commit")]));
      setTimeout(() => c.destroy(), 300);
      await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      expect(await sql`select count(*)::int as n from probe`).toEqual([{ n: 0 }]);
      expect(Date.now() - t0).toBeLessThan(5_000);
    });
  }, 60_000);

  // Why there is no statement timeout: PGlite runs a statement synchronously on the owner's
  // thread and takes no interrupt, so Postgres' statement_timeout (a SIGALRM) never fires. This
  // pins it: when PGlite starts honouring it, the wire server can set it for every client.
  it("PGlite ignores statement_timeout (a statement cannot be interrupted)", async () => {
    const { PGlite } = await import("@electric-sql/pglite");
    const db = await PGlite.create();
    await db.exec("set statement_timeout = '100ms'");
    const t0 = Date.now();
    await db.query("select pg_sleep(1)");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    await db.close();
  }, 60_000);
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

// The demo app Raptor deploys: plain node http, no dependencies.
"use strict";
const http = require("node:http");
const fs = require("node:fs");
const path = require("node:path");

const host = process.env.HOST || "0.0.0.0";
const port = Number(process.env.PORT || 5000);
// Raptor gives every proc these (README, section "Playbooks": "Every proc also gets …"): what release and proc this is.
const release = process.env.RAPTOR_RELEASE || "?";
const procName = process.env.RAPTOR_PROC || "";
const where = [process.env.RAPTOR_APP, process.env.RAPTOR_ENV].filter(Boolean).join(" ");

function version() {
  try {
    return fs.readFileSync(path.join(__dirname, "VERSION"), "utf8").trim() || "dev";
  } catch {
    return "dev";
  }
}
const VERSION = version();

// Only these names may be read back: enough for tests of `config set`, nothing secret.
const READABLE = /^(GREETING[A-Z0-9_]*|HELLO_[A-Z0-9_]+)$/;

const server = http.createServer((req, res) => {
  const url = new URL(req.url || "/", "http://localhost");
  if (req.method === "GET" && url.pathname === "/") {
    // The code's VERSION, then what Raptor runs: release, proc, and the config the demo reads.
    const greeting = process.env.GREETING ? `, GREETING=${process.env.GREETING}` : "";
    return reply(res, 200, `hello from ${VERSION} — release ${release} of ${where || "?"} (${procName})${greeting}\n`);
  }
  const m = /^\/env\/([A-Za-z0-9_]+)$/.exec(url.pathname);
  if (req.method === "GET" && m) {
    const name = m[1];
    if (!READABLE.test(name)) return reply(res, 403, `only GREETING* and HELLO_* can be read\n`);
    const value = process.env[name];
    return value === undefined ? reply(res, 404, `${name} is not set\n`) : reply(res, 200, value);
  }
  reply(res, 404, "not found\n");
});

function reply(res, status, body) {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(body);
}

server.listen(port, host, () => {
  console.log(`hello ${VERSION} listening on ${host}:${server.address().port}`);
});

// Supervisord stops procs with SIGTERM: finish in-flight requests, then exit.
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 5000).unref();
});

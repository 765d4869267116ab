/**
 * The app bench/throughput.ts deploys by default: a real web app, small on purpose, so that the
 * test bed's hosts (three supervisords and sshds on this machine's cores) are less of the limit
 * than the workers whose number the bench varies. It goes through the whole pipeline like any
 * app: the `custom` buildpack (its own bin/compile), a Procfile, a proc under supervisord bound
 * to the HOST and PORT it is given, an uptest that must pass before routing. What makes it small:
 * a Python stdlib server (about 19 MB and 30 ms of CPU to start, against 44 MB and 50 ms for the
 * demo's node server) and a curl uptest (about 5 ms of CPU, against 50 ms for a node one).
 */
export const SMALL_APP: Record<string, string> = {
  Procfile: "web: exec python3 server.py\n",
  "bin/compile": "#!/bin/sh\n# Nothing to compile: the server is Python's standard library.\necho 'small app: nothing to compile'\n",
  "server.py": [
    "# Answers every GET with the release it runs; binds the HOST and PORT Raptor gives it.",
    "import os",
    "from http.server import BaseHTTPRequestHandler, HTTPServer",
    "",
    "class Hello(BaseHTTPRequestHandler):",
    "    def do_GET(self):",
    "        body = ('hello from release %s\\n' % os.environ.get('RAPTOR_RELEASE', '?')).encode()",
    "        self.send_response(200)",
    "        self.send_header('content-type', 'text/plain')",
    "        self.send_header('content-length', str(len(body)))",
    "        self.end_headers()",
    "        self.wfile.write(body)",
    "",
    "    def log_message(self, *args):",
    "        pass",
    "",
    "HTTPServer((os.environ.get('HOST', '0.0.0.0'), int(os.environ.get('PORT', '5000'))), Hello).serve_forever()",
    "",
  ].join("\n"),
  "uptests/web/http": "#!/bin/sh\n# Uptest: args host port. Healthy when GET / answers 2xx within 5 s.\nexec curl -fsS -m 5 -o /dev/null \"http://$1:$2/\"\n",
};

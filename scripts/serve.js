// A static file server on 127.0.0.1, for `npm run playground` (dist/playground on port 5174, or
// PORT) and for the browser tests (any folder, a free port). Only GET and HEAD of files inside the
// folder; "/" is index.html.
"use strict";
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const { URL } = require("node:url");

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** Starts serving `dir`; resolves to the server and its base URL once it listens. */
function serve(dir, port = 0) {
  const base = path.resolve(dir);
  const server = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
    const file = path.join(base, pathname.endsWith("/") ? `${pathname}index.html` : pathname);
    // path.join has resolved any "..": a path outside the folder is refused, not served.
    const inside = file === base || file.startsWith(base + path.sep);
    if ((req.method !== "GET" && req.method !== "HEAD") || !inside || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(inside ? 404 : 403).end();
      return;
    }
    res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
    if (req.method === "HEAD") res.end();
    else fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${server.address().port}/` }));
  });
}

module.exports = { serve };

if (require.main === module) {
  const dir = process.argv[2] ?? "dist/playground";
  serve(dir, Number(process.env.PORT ?? 5174)).then(
    ({ url }) => console.log(`serving ${dir} at ${url} (Ctrl-C to stop)`),
    (err) => {
      console.error(`cannot serve ${dir}: ${err.message}`);
      process.exit(1);
    },
  );
}

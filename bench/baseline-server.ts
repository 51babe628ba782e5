/**
 * The comparison point for `npm run bench`: a bare node:http server that reads the body and does one
 * Redis write per request — the least any ingest that stores alerts must do.
 */
import { createServer } from "node:http";
import { Redis } from "ioredis";

const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
let n = 0;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    redis
      .set(`baseline:${n++}`, Buffer.concat(chunks))
      .then(() => {
        res.writeHead(202, { "content-type": "application/json" }).end('{"accepted":1}');
      })
      .catch(() => res.writeHead(503).end());
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  process.stdout.write(`"port":${(server.address() as { port: number }).port}\n`);
});

import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { register } from "../metrics.js";

/** An HTTP server listening on its port, and how to stop it. */
export interface Listening {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `handler` on `port` (0: any free one). Resolves once it listens, and rejects when it cannot
 * (the port is taken, say), so that a process fails at start-up with the reason.
 */
export async function listen(handler: RequestListener, port: number): Promise<Listening> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    /** Stops accepting; requests under way are answered first. */
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}

/**
 * The worker's HTTP app, for WORKER_METRICS_PORT: a worker started on its own has no web server, so
 * it serves its own Prometheus metrics, and nothing else.
 */
export function workerMetricsApp(): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.get("/metrics", async (_req, res) => {
    res.type(register.contentType).send(await register.metrics());
  });
  app.use((_req, res) => {
    res.status(404).json({ error: "this is a worker's metrics port: GET /metrics" });
  });
  return app;
}

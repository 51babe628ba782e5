import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import type express from "express";
import type { Queue } from "bullmq";
import { tokenMatches } from "./auth.js";

export const ADMIN_BASE_PATH = "/admin/queues";

/**
 * HTTP Basic authentication for the admin pages: browsers ask for it natively. Any user name; the
 * password is ADMIN_PASSWORD, compared in constant time. Without ADMIN_PASSWORD the pages are off.
 */
export function basicAuth(password: string): express.RequestHandler {
  return (req, res, next) => {
    const header = req.get("authorization") ?? "";
    const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header.trim());
    const decoded = match ? Buffer.from(match[1]!, "base64").toString("utf8") : null;
    const given = decoded === null ? null : decoded.slice(decoded.indexOf(":") + 1);
    if (given !== null && decoded!.includes(":") && tokenMatches(given, password)) return next();
    res.set("WWW-Authenticate", 'Basic realm="falco-chatops admin", charset="UTF-8"');
    res.status(401).json({
      error:
        given === null
          ? "the admin pages need HTTP Basic authentication: any user name, ADMIN_PASSWORD as the password"
          : "wrong password: it does not match ADMIN_PASSWORD",
    });
  };
}

/** Bull Board over the delivery queues (one per Slack channel), behind Basic authentication. */
export function mountQueueBoard(app: express.Express, queues: Queue[], password: string | undefined): void {
  if (!password) {
    app.use(ADMIN_BASE_PATH, (_req, res) => {
      res.status(404).json({ error: "the queue dashboard is off: set ADMIN_PASSWORD to enable it" });
    });
    return;
  }
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(ADMIN_BASE_PATH);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter });
  app.use(ADMIN_BASE_PATH, basicAuth(password), serverAdapter.getRouter() as express.Router);
}

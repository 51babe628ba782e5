import type { Logger } from "pino";
import { type Config, ConfigError, loadConfig } from "../config/config.js";
import { type KnowledgeBase, KnowledgeBaseError, loadKnowledgeBase } from "../enrich/knowledge.js";
import { createLogger } from "../log.js";
import type { Running } from "./compose.js";

/** Config, logger and knowledge base, or a clear message and exit code 1. */
export function boot(): { config: Config; log: Logger; kb: KnowledgeBase } {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(
        `falco-chatops: ${error.message}\nSee README.md (Configuration) or .env.example.\n`,
      );
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config.logLevel, config.logFormat);
  try {
    return { config, log, kb: loadKnowledgeBase() };
  } catch (error) {
    if (error instanceof KnowledgeBaseError) {
      process.stderr.write(`falco-chatops: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

/** Graceful shutdown on SIGTERM/SIGINT: stop accepting, let in-flight work finish, close Redis. */
export function closeOnSignals(log: Logger, parts: Running[], after: () => void = () => {}): void {
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      log.error("shutdown took over 20 s; exiting");
      process.exit(1);
    }, 20_000);
    timer.unref();
    for (const part of parts)
      await part.close().catch((error) => log.error({ err: error }, "error while closing"));
    after();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

export function previewBanner(config: Config, port: number): string {
  const token = config.ingestToken ? "?token=$INGEST_TOKEN" : "";
  return [
    "",
    "  falco-chatops is running in PREVIEW MODE (no SLACK_BOT_TOKEN): a local workspace stands in for Slack.",
    `  Open the preview:     http://localhost:${port}/preview${token ? "?token=<INGEST_TOKEN>" : ""} (messages, buttons and /falco, live)`,
    `  Send sample alerts:   npx falco-chatops demo http://localhost:${port}${config.ingestToken ? " --token $INGEST_TOKEN" : ""}`,
    `  Send a Falco alert:   curl -sS -H 'Content-Type: application/json' --data-binary @examples/memfd-create.json http://localhost:${port}/falco${token}`,
    "  Or preview offline:  npx falco-chatops render examples/memfd-create.json",
    "  To connect Slack: create an app from slack-app-manifest.yaml, install it, then set SLACK_BOT_TOKEN,",
    "  SLACK_SIGNING_SECRET and SLACK_CHANNEL (README.md, 'Connect Slack').",
    "",
  ].join("\n");
}

import { pino } from "pino";
import { loadConfig, type Config } from "../src/config/config.js";
import { loadKnowledgeBase, type KnowledgeBase } from "../src/enrich/knowledge.js";
import { startWeb, startWorker, type WebProcess, type WorkerProcess } from "../src/main/compose.js";
import { LocalSlack } from "../src/preview/local-slack.js";
import { blockActionsBody, signedHeaders, slashCommandBody } from "../src/preview/slack-requests.js";
import { dropPrefix, TEST_REDIS_URL, uniquePrefix } from "./redis.js";

export const SIGNING_SECRET = "test-signing-secret-0123456789";
export const CHANNEL = "C0ALERTS";
export const ESCALATION_CHANNEL = "C0ESCALATE";
export const BOT_TOKEN = "xoxb-test-token";

export interface Harness {
  config: Config;
  kb: KnowledgeBase;
  slack: LocalSlack | null;
  web: WebProcess;
  worker: WorkerProcess | null;
  base: string;
  preview: string[];
  prefix: string;
  postAlerts(body: string, headers?: Record<string, string>, query?: string): Promise<Response>;
  getAlert(uuid: string, headers?: Record<string, string>): Promise<Response>;
  click(actionId: string, uuid: string, userId: string, messageTs: string): Promise<Response>;
  command(text: string, userId?: string): Promise<{ status: number; responseUrl: string }>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  slack?: boolean;
  worker?: boolean;
  env?: Record<string, string>;
  redisUrl?: string;
  /** Collects the processes' JSON log lines here (otherwise logging is off). */
  logLines?: string[];
}

/** The real web and worker processes (in this process), real Redis, and the local Slack. */
export async function startHarness(name: string, options: HarnessOptions = {}): Promise<Harness> {
  const prefix = uniquePrefix(name);
  const slack =
    options.slack === false ? null : new LocalSlack({ token: BOT_TOKEN, signingSecret: SIGNING_SECRET });
  await slack?.start();
  const env: Record<string, string> = {
    PORT: "0",
    REDIS_KEY_PREFIX: prefix,
    LOG_LEVEL: "silent",
    SLACK_MAX_POSTS_PER_SECOND: "100",
    // Most tests send the same sample alert many times to test one message each; the grouping and
    // de-duplication tests turn these back on.
    GROUP_WINDOW_SECONDS: "0",
    DEDUPE_WINDOW_SECONDS: "0",
    // Many tests send one rule from several hosts and expect a message each: the roll-up tests turn
    // fleet roll-ups back on.
    FLEET_ROLLUP_GROUPS: "0",
    ...(slack
      ? {
          SLACK_BOT_TOKEN: BOT_TOKEN,
          SLACK_SIGNING_SECRET: SIGNING_SECRET,
          SLACK_CHANNEL: CHANNEL,
          SLACK_ESCALATION_CHANNEL: ESCALATION_CHANNEL,
          SLACK_API_URL: slack.apiUrl,
        }
      : {}),
    ...options.env,
  };
  const config = loadConfig(env);
  const kb = loadKnowledgeBase();
  const lines = options.logLines;
  const log = lines
    ? pino({ level: "debug" }, { write: (line: string) => void lines.push(line) })
    : pino({ level: "silent" });
  const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
  const web = await startWeb({ config, redisUrl, kb, log });
  const preview: string[] = [];
  const worker =
    options.worker === false
      ? null
      : await startWorker({ config, redisUrl, kb, log, preview: (t) => preview.push(t) });
  const base = `http://127.0.0.1:${web.port}`;
  if (slack) slack.requestUrl = `${base}/slack/events`;
  const signedPost = (body: string) =>
    fetch(`${base}/slack/events`, { method: "POST", headers: signedHeaders(SIGNING_SECRET, body), body });

  return {
    config,
    kb,
    slack,
    web,
    worker,
    base,
    preview,
    prefix,
    postAlerts: (body, headers = { "content-type": "application/json" }, query = "") =>
      fetch(`${base}/falco${query}`, { method: "POST", headers, body }),
    getAlert: (uuid, headers = {}) => fetch(`${base}/alerts/${encodeURIComponent(uuid)}`, { headers }),
    click: (actionId, uuid, userId, messageTs) =>
      signedPost(
        blockActionsBody({
          actionId,
          value: uuid,
          userId,
          channel: CHANNEL,
          messageTs,
          responseUrl: slack!.responseUrl(CHANNEL, userId),
          triggerId: slack!.triggerFor(userId),
        }),
      ),
    async command(text, userId = "U0ALICE") {
      const responseUrl = slack!.responseUrl(CHANNEL, userId);
      const res = await signedPost(
        slashCommandBody({
          text,
          userId,
          channel: CHANNEL,
          responseUrl,
          triggerId: slack!.triggerFor(userId),
        }),
      );
      return { status: res.status, responseUrl };
    },
    async stop() {
      await worker?.close();
      await web.close();
      await slack?.stop();
      await dropPrefix(prefix);
    },
  };
}

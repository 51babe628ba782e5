import { readFileSync } from "node:fs";
import { z } from "zod";
import { normalisePriority, PRIORITIES, type Priority } from "../falco/priority.js";
import { PREVIEW_CHANNEL } from "../queue/names.js";
import { DEFAULT_GROUP_FIELDS } from "../route/grouping.js";
import { parseRoutes, type Route, type Routing, RoutesError } from "../route/routes.js";
import { ChannelIdSchema } from "./slack-ids.js";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const channelId = ChannelIdSchema;

const optional = (value: string | undefined) =>
  value === undefined || value.trim() === "" ? undefined : value;

/**
 * The environment as the operator writes it. Empty strings count as unset, so a `.env` line such as
 * `SLACK_BOT_TOKEN=` means "not configured" rather than "configured with an empty token".
 */
const EnvSchema = z.object({
  PORT: z.coerce
    .number({ error: "must be a port number (0-65535)" })
    .int("must be a port number (0-65535)")
    .min(0, "must be a port number (0-65535)")
    .max(65535, "must be a port number (0-65535)")
    .default(3000),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: "must be a redis:// or rediss:// URL" }).optional(),
  REDIS_CLUSTER: z
    .enum(["true", "false"], { error: "must be true or false" })
    .default("false")
    .transform((v) => v === "true"),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:{}_-]{1,64}$/, "may hold only letters, digits and : { } _ - (at most 64)")
    .default("falco-chatops"),
  SLACK_BOT_TOKEN: z.string().startsWith("xoxb-", "must be a bot token starting with xoxb-").optional(),
  SLACK_SIGNING_SECRET: z.string().min(8, "looks too short to be a signing secret").optional(),
  SLACK_APP_TOKEN: z
    .string()
    .startsWith("xapp-", "must be an app-level token starting with xapp-")
    .optional(),
  SLACK_API_URL: z.url({ protocol: /^https?$/ }).default("https://slack.com/api/"),
  SLACK_CHANNEL: channelId.optional(),
  SLACK_ESCALATION_CHANNEL: channelId.optional(),
  SLACK_HEALTH_CHANNEL: channelId.optional(),
  INGEST_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  ADMIN_PASSWORD: z.string().min(12, "must be at least 12 characters").optional(),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),
  INGEST_MAX_BYTES_IN_FLIGHT: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .max(1024 * 1024 * 1024)
    .default(4 * 1024 * 1024),
  SLACK_MAX_POSTS_PER_SECOND: z.coerce.number().int().min(1).max(1000).default(1),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  WORKER_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  JOB_LOCK_SECONDS: z.coerce.number().int().min(1).max(600).default(10),
  BACKLOG_NOTICE_SECONDS: z.coerce.number().int().min(0).max(86400).default(60),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info"),
  LOG_FORMAT: z.enum(["json", "pretty"], { error: "must be json or pretty" }).optional(),
  ROUTES_FILE: z.string().optional(),
  SLACK_ALLOWED_RESPONDERS: z
    .string()
    .regex(
      /^\s*[UWS][A-Z0-9]{2,}(\s*,\s*[UWS][A-Z0-9]{2,})*\s*$/,
      "must be a comma-separated list of Slack user ids (U…, W…) or user group ids (S…)",
    )
    .optional(),
  MIN_PRIORITY: z
    .string()
    .refine((p) => normalisePriority(p) !== undefined, {
      error: `must be a Falco priority: ${PRIORITIES.join(", ")} (any case)`,
    })
    .default("debug"),
  GROUP_WINDOW_SECONDS: z.coerce.number().int().min(0).max(86400).default(600),
  GROUP_KEY_FIELDS: z
    .string()
    .regex(/^[A-Za-z0-9_.[\]/-]+(,[A-Za-z0-9_.[\]/-]+)*$/, "must be a comma-separated list of field names")
    .default(DEFAULT_GROUP_FIELDS.join(",")),
  GROUP_UPDATE_SECONDS: z.coerce.number().int().min(1).max(600).default(3),
  DEDUPE_WINDOW_SECONDS: z.coerce.number().int().min(0).max(86400).default(600),
  FLEET_ROLLUP_GROUPS: z.coerce.number().int().min(0).max(100000).default(3),
  FLEET_ROLLUP_WINDOW_SECONDS: z.coerce.number().int().min(0).max(86400).default(300),
  MAX_BATCH_ALERTS: z.coerce.number().int().min(1).max(100000).default(5000),
  ALERT_RETENTION_DAYS: z.coerce.number().positive().max(3650).default(14),
  HEARTBEAT_MISSING_SECONDS: z.coerce.number().int().min(0).max(604800).default(900),
  GITHUB_TOKEN: z.string().min(8, "looks too short to be a GitHub token").optional(),
  TUNING_REPO: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "must be owner/name of a GitHub repository")
    .optional(),
  TUNING_PATH: z
    .string()
    .regex(/^[^/\s][^\s]*\.ya?ml$/, "must be a path inside the repository ending in .yaml or .yml")
    .refine((p) => !p.split("/").includes(".."), "must not contain ..")
    .default("falco/tuning-rules.yaml"),
  TUNING_BASE_BRANCH: z
    .string()
    .regex(/^[A-Za-z0-9._/-]{1,200}$/, "must be a branch name")
    .default("main"),
  GITHUB_API_URL: z.url({ protocol: /^https?$/ }).default("https://api.github.com"),
});

/** Every variable the configuration reads, for docs checks. */
export const ENV_VARIABLES = Object.keys(EnvSchema.shape);

/** Rules between variables, checked even when single values are also wrong, so one run lists everything. */
function crossProblems(env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  if (env.SLACK_BOT_TOKEN) {
    if (!env.SLACK_CHANNEL) problems.push("SLACK_CHANNEL is required with SLACK_BOT_TOKEN");
    if (!env.SLACK_SIGNING_SECRET)
      problems.push(
        "SLACK_SIGNING_SECRET is required with SLACK_BOT_TOKEN (Basic Information → App Credentials)",
      );
  } else {
    for (const name of [
      "SLACK_APP_TOKEN",
      "SLACK_CHANNEL",
      "SLACK_ESCALATION_CHANNEL",
      "SLACK_HEALTH_CHANNEL",
      "SLACK_ALLOWED_RESPONDERS",
    ]) {
      if (env[name]) problems.push(`${name} is set but SLACK_BOT_TOKEN is not`);
    }
  }
  if (env.TUNING_REPO && !env.GITHUB_TOKEN)
    problems.push("GITHUB_TOKEN is required with TUNING_REPO (pull requests of saved Falco exceptions)");
  if (env.REDIS_CLUSTER === "true") {
    if (!env.REDIS_URL)
      problems.push("REDIS_URL is required with REDIS_CLUSTER=true (any node of the cluster)");
    // BullMQ's scripts and the store's touch many keys at once: on a cluster they must share a slot.
    if (!/\{[^{}]+\}/.test(env.REDIS_KEY_PREFIX ?? ""))
      problems.push(
        "REDIS_KEY_PREFIX must hold a {hashtag} with REDIS_CLUSTER=true, e.g. {falco-chatops}, so that every key shares one slot",
      );
    if (!["", "/", "/0"].includes(urlPath(env.REDIS_URL)))
      problems.push(
        "REDIS_URL cannot select a database with REDIS_CLUSTER=true (a cluster has only database 0)",
      );
  }
  return problems;
}

/** The URL's path ("/2" selects database 2); "" when there is no URL or it does not parse. */
function urlPath(url: string | undefined): string {
  try {
    return url ? new URL(url).pathname : "";
  } catch {
    return "";
  }
}

export interface SlackConfig {
  botToken: string;
  signingSecret: string;
  appToken: string | undefined;
  apiUrl: string;
  channel: string;
  escalationChannel: string;
  /** Who may acknowledge and escalate: user ids and user group ids; empty: everyone in the channel. */
  allowedResponders: string[];
}

export interface Config {
  port: number;
  /** undefined when the operator did not set REDIS_URL: the all-in-one entry point may start a private Redis. */
  redisUrl: string | undefined;
  /** REDIS_URL is one node of a Redis Cluster: connect with a cluster client. */
  redisCluster: boolean;
  keyPrefix: string;
  /** null: preview mode, messages are rendered to the log instead of posted. */
  slack: SlackConfig | null;
  slackApiUrl: string;
  ingestToken: string | undefined;
  /** Password of the queue dashboard at /admin/queues (HTTP Basic); unset: the dashboard is off. */
  adminPassword: string | undefined;
  maxBodyBytes: number;
  /** Request bytes the web process holds at once; further requests wait, unread. */
  maxBytesInFlight: number;
  /** Most alerts one POST may carry. */
  maxBatchAlerts: number;
  workerConcurrency: number;
  /**
   * How long a job stays claimed by a worker that stopped answering; another worker takes it over
   * within one and a half times this (see lockOptions in src/queue/worker.ts).
   */
  jobLockSeconds: number;
  /** A worker process on its own serves GET /metrics on this port (unset: none). */
  workerMetricsPort: number | undefined;
  /** Slack accepts about one message per second per channel; the workers pace themselves to this. */
  slackMaxPostsPerSecond: number;
  /**
   * A channel is told in a message when more alerts wait for it than its pace posts in this many
   * seconds (src/slack/backlog-notice.ts); 0: never.
   */
  backlogNoticeSeconds: number;
  logLevel: (typeof LOG_LEVELS)[number];
  /** pretty on a terminal, JSON otherwise, unless LOG_FORMAT says. */
  logFormat: "json" | "pretty";
  /** Which channel each alert goes to (preview mode: the default channel is "preview"). */
  routing: Routing;
  grouping: {
    /** 0: every alert gets its own message. */
    windowSeconds: number;
    fields: string[];
    /** At most one update of a group's message per this many seconds. */
    updateSeconds: number;
    /** 0: re-sent copies (same content, new uuid) are not recognised. */
    dedupeWindowSeconds: number;
    /**
     * Fleet roll-up: a rule's new groups in one channel beyond this many within `rollupWindowSeconds`
     * join one roll-up message instead of posting their own; 0: off (either setting 0, or grouping off).
     */
    rollupGroups: number;
    rollupWindowSeconds: number;
  };
  /** Stored alerts expire after this many seconds (ALERT_RETENTION_DAYS). */
  retentionSeconds: number;
  /** Falco's own health: the heartbeat check and where health messages go (see src/health). */
  health: {
    /** A host that sent a metrics snapshot and then nothing for this long is silent; 0: not checked. */
    heartbeatMissingSeconds: number;
    /** SLACK_HEALTH_CHANNEL, else the routing's default channel. */
    channel: string;
  };
  /** Where saved Falco exceptions are proposed as pull requests; null: they are only served. */
  tuningGitHub: {
    token: string;
    repo: string;
    path: string;
    baseBranch: string;
    apiUrl: string;
  } | null;
}

export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

/** Parses the whole environment once; on failure throws one ConfigError naming every bad variable. */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, string | undefined> = {};
  for (const key of Object.keys(EnvSchema.shape)) raw[key] = optional(environment[key]);
  const parsed = EnvSchema.safeParse(raw);
  const problems = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map((issue) => `${issue.path.join(".") || "environment"} ${issue.message}`)),
    ...crossProblems(raw),
  ];
  let routes: Route[] = [];
  if (raw.ROUTES_FILE) {
    try {
      routes = parseRoutes(readFileSync(raw.ROUTES_FILE, "utf8"), raw.ROUTES_FILE);
    } catch (error) {
      if (error instanceof RoutesError) problems.push(...error.problems.map((p) => `ROUTES_FILE ${p}`));
      else problems.push(`ROUTES_FILE cannot be read: ${(error as Error).message}`);
    }
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const env = parsed.data;
  return {
    port: env.PORT,
    redisUrl: env.REDIS_URL,
    redisCluster: env.REDIS_CLUSTER,
    keyPrefix: env.REDIS_KEY_PREFIX,
    slack:
      env.SLACK_BOT_TOKEN && env.SLACK_SIGNING_SECRET && env.SLACK_CHANNEL
        ? {
            botToken: env.SLACK_BOT_TOKEN,
            signingSecret: env.SLACK_SIGNING_SECRET,
            appToken: env.SLACK_APP_TOKEN,
            apiUrl: env.SLACK_API_URL,
            channel: env.SLACK_CHANNEL,
            escalationChannel: env.SLACK_ESCALATION_CHANNEL ?? env.SLACK_CHANNEL,
            allowedResponders: (env.SLACK_ALLOWED_RESPONDERS ?? "")
              .split(",")
              .map((id) => id.trim())
              .filter(Boolean),
          }
        : null,
    slackApiUrl: env.SLACK_API_URL,
    ingestToken: env.INGEST_TOKEN,
    adminPassword: env.ADMIN_PASSWORD,
    maxBodyBytes: env.MAX_BODY_BYTES,
    maxBytesInFlight: env.INGEST_MAX_BYTES_IN_FLIGHT,
    maxBatchAlerts: env.MAX_BATCH_ALERTS,
    workerConcurrency: env.WORKER_CONCURRENCY,
    jobLockSeconds: env.JOB_LOCK_SECONDS,
    workerMetricsPort: env.WORKER_METRICS_PORT,
    slackMaxPostsPerSecond: env.SLACK_MAX_POSTS_PER_SECOND,
    backlogNoticeSeconds: env.BACKLOG_NOTICE_SECONDS,
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT ?? (process.stdout.isTTY ? "pretty" : "json"),
    routing: {
      routes,
      defaultChannel: env.SLACK_BOT_TOKEN && env.SLACK_CHANNEL ? env.SLACK_CHANNEL : PREVIEW_CHANNEL,
      minPriority: normalisePriority(env.MIN_PRIORITY) as Priority,
    },
    grouping: {
      windowSeconds: env.GROUP_WINDOW_SECONDS,
      fields: env.GROUP_KEY_FIELDS.split(","),
      updateSeconds: env.GROUP_UPDATE_SECONDS,
      dedupeWindowSeconds: env.DEDUPE_WINDOW_SECONDS,
      rollupGroups: env.FLEET_ROLLUP_WINDOW_SECONDS === 0 ? 0 : env.FLEET_ROLLUP_GROUPS,
      rollupWindowSeconds: env.FLEET_ROLLUP_WINDOW_SECONDS,
    },
    retentionSeconds: Math.round(env.ALERT_RETENTION_DAYS * 86400),
    health: {
      heartbeatMissingSeconds: env.HEARTBEAT_MISSING_SECONDS,
      channel:
        env.SLACK_BOT_TOKEN && env.SLACK_CHANNEL
          ? (env.SLACK_HEALTH_CHANNEL ?? env.SLACK_CHANNEL)
          : PREVIEW_CHANNEL,
    },
    tuningGitHub:
      env.GITHUB_TOKEN && env.TUNING_REPO
        ? {
            token: env.GITHUB_TOKEN,
            repo: env.TUNING_REPO,
            path: env.TUNING_PATH,
            baseBranch: env.TUNING_BASE_BRANCH,
            apiUrl: env.GITHUB_API_URL,
          }
        : null,
  };
}

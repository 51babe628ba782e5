import type { Server } from "node:http";
import type { Worker } from "bullmq";
import type { Logger } from "pino";
import type { Config } from "../config/config.js";
import type { KnowledgeBase } from "../enrich/knowledge.js";
import { mountQueueBoard } from "../ingest/admin.js";
import { type Intake, IntakeCommitter } from "../ingest/accept.js";
import { createFalcoEndpoint, isFalcoIngest } from "../ingest/falco-endpoint.js";
import { createHttpApp, finishHttpApp, requireToken } from "../ingest/http.js";
import { startProcessMetrics } from "../metrics.js";
import { DeliveryQueues } from "../queue/producer.js";
import { PREVIEW_CHANNEL } from "../queue/names.js";
import { routingChannels, threadLogEnabled } from "../route/routes.js";
import { awaitReady, producerConnection, workerConnection } from "../redis/connection.js";
import { createDeliveryWorker } from "../queue/worker.js";
import { BacklogWatch } from "../queue/backlog.js";
import { BacklogNotices } from "../slack/backlog-notice.js";
import { BacklogNoticeStore } from "../store/backlog-notices.js";
import { createSlackApp, verifySlackToken } from "../slack/app.js";
import { createSlackClient } from "../slack/client.js";
import { AlertDelivery } from "../slack/delivery.js";
import { RollupDelivery } from "../slack/rollup-delivery.js";
import { RollupStore } from "../store/rollups.js";
import { ThreadLog } from "../slack/thread-log.js";
import { ResponderPolicy } from "../slack/listeners/actions/responders.js";
import type { LocalSlack } from "../preview/local-slack.js";
import { previewRoutes } from "../preview/page.js";
import { AlertStore } from "../store/alert-store.js";
import { SilenceStore } from "../store/silences.js";
import { ActiveSilences } from "../silence/active.js";
import { Silences } from "../silence/service.js";
import { createSilenceWorker, SilenceJobs } from "../queue/silence-jobs.js";
import { silencesRouter } from "../ingest/silences-api.js";
import { endSilence } from "../slack/silence-end.js";
import { TuningStore } from "../store/tuning-store.js";
import { tuningRoutes } from "../ingest/tuning-routes.js";
import { GitHubPullRequests } from "../tuning/github.js";
import { TuningHold } from "../tuning/hold.js";
import { listen, workerMetricsApp } from "./http-server.js";
import { HealthStore } from "../store/health-store.js";
import { HealthIntake } from "../health/intake.js";
import { HealthListing } from "../health/listing.js";
import { countByState } from "../health/state.js";
import { visibilityLookup } from "../health/visibility.js";
import { createHealthWorker, HealthJobs } from "../queue/health-jobs.js";
import { healthRoutes } from "../ingest/health-routes.js";
import { HealthMessenger } from "../slack/health-messages.js";
import { watchFalcoHosts } from "../metrics.js";

/** The URL without its password, for logs. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

export interface Running {
  close(): Promise<void>;
}

/** What either process is started with. */
export interface ProcessOptions {
  config: Config;
  /** REDIS_URL, or the private Redis `npm start` started. */
  redisUrl: string;
  kb: KnowledgeBase;
  log: Logger;
}

export interface WebOptions extends ProcessOptions {
  /** Preview mode's local workspace: serves /preview, whose clicks reach the Bolt listeners. */
  local?: LocalSlack | null;
}

export interface WebProcess extends Running {
  server: Server;
  port: number;
}

/** HTTP ingest, lookups, health, and Slack's listeners: the `web` process. */
export async function startWeb({ config, redisUrl, kb, log, local = null }: WebOptions): Promise<WebProcess> {
  startProcessMetrics();
  // No auto-pipelining on the store's connection: ioredis keeps one auto-pipeline in flight at a time,
  // so each group commit would wait for the previous one's answer and this process and Redis would
  // take turns (measured: a fifth less single-alert throughput). The group commit batches already.
  const redis = producerConnection(redisUrl, "falco-chatops:web", { cluster: config.redisCluster });
  // BullMQ defines some fifty scripts on the connection it is given; the store's own connection stays
  // free of them, so that its pipelines (a batch of more than one script call) do not copy them all.
  const queueRedis = producerConnection(redisUrl, "falco-chatops:web-queues", {
    cluster: config.redisCluster,
  });
  // Both, so that the first requests find the queue connection ready as well as the store's.
  const ready = await Promise.all([awaitReady(redis, 3000), awaitReady(queueRedis, 3000)]);
  if (!ready.every(Boolean))
    log.error({ redisUrl: redactUrl(redisUrl) }, "Redis is not reachable yet: answering 503 until it is");
  const store = new AlertStore(redis, config.keyPrefix);
  const queues = new DeliveryQueues(queueRedis, config.keyPrefix, config.grouping.updateSeconds * 1000);
  // Silences: every alert is checked against this process's copy at ingest (see ActiveSilences).
  const silenceStore = new SilenceStore(redis, config.keyPrefix);
  const activeSilences = new ActiveSilences(silenceStore, log);
  await activeSilences.start(redis.duplicate());
  const silenceJobs = new SilenceJobs(queueRedis, config.keyPrefix);
  const silences = new Silences(silenceStore, silenceJobs, activeSilences);
  const tuningStore = new TuningStore(redis, config.keyPrefix);
  const tuningHold = new TuningHold(tuningStore, log);
  await tuningHold.start();
  // Falco's own health: last seen per host at ingest, health signals recorded, its drops messages queued.
  const healthStore = new HealthStore(redis, config.keyPrefix);
  const healthJobs = new HealthJobs(queueRedis, config.keyPrefix, config.grouping.updateSeconds * 1000);
  const healthListing = new HealthListing(healthStore, config.health.heartbeatMissingSeconds);
  const unwatchFalcoHosts = watchFalcoHosts(async () => countByState(await healthListing.hosts()));
  const intake: Intake = {
    store,
    queues,
    routing: config.routing,
    grouping: {
      fields: config.grouping.fields,
      groupWindowSeconds: config.grouping.windowSeconds,
      dedupeWindowSeconds: config.grouping.dedupeWindowSeconds,
      retentionSeconds: config.retentionSeconds,
      rollupGroups: config.grouping.rollupGroups,
      rollupWindowSeconds: config.grouping.rollupWindowSeconds,
    },
    holds: [activeSilences, tuningHold],
    health: new HealthIntake({
      store: healthStore,
      jobs: healthJobs,
      retentionSeconds: config.retentionSeconds,
      // A quarter of the heartbeat window at most, so that a host is never called silent for it.
      lastSeenResolutionMs: Math.min(5000, (config.health.heartbeatMissingSeconds * 1000) / 4 || 5000),
    }),
  };
  const rollups = new RollupStore(redis, config.keyPrefix);
  const app = createHttpApp({
    store,
    rollups,
    intake,
    redis,
    kb,
    ingestToken: config.ingestToken,
    log,
    visibility: visibilityLookup(healthStore),
  });
  app.use(silencesRouter({ silences, ingestToken: config.ingestToken, log }));
  const committer = new IntakeCommitter(intake);
  const falcoEndpoint = createFalcoEndpoint({
    accept: (alerts, receivedAt) => committer.accept(alerts, receivedAt),
    ingestToken: config.ingestToken,
    maxBodyBytes: config.maxBodyBytes,
    maxBytesInFlight: config.maxBytesInFlight,
    maxBatchAlerts: config.maxBatchAlerts,
    log,
  });

  const identity = config.slack ? await verifySlackToken(config.slack, log) : null;
  const slackApp = config.slack
    ? createSlackApp({
        config: config.slack,
        httpApp: app,
        listeners: {
          store,
          rollups,
          kb,
          escalationChannel: config.slack.escalationChannel,
          responders: new ResponderPolicy(config.slack.allowedResponders),
          threadLog: new ThreadLog({
            enabledFor: (channel) => threadLogEnabled(config.routing, channel),
            log,
          }),
          silences,
          log,
          visibility: visibilityLookup(healthStore),
          health: healthListing,
          tuning: {
            store: tuningStore,
            hold: tuningHold,
            github: config.tuningGitHub
              ? {
                  pulls: new GitHubPullRequests(config.tuningGitHub),
                  repo: config.tuningGitHub.repo,
                  path: config.tuningGitHub.path,
                }
              : null,
            retentionSeconds: config.retentionSeconds,
          },
        },
        identity,
        log,
      })
    : null;
  mountQueueBoard(
    app,
    routingChannels(config.routing).map((channel) => queues.queue(channel)),
    config.adminPassword,
  );
  app.use(tuningRoutes({ store: tuningStore, auth: requireToken(config.ingestToken), log }));
  app.use(healthRoutes({ listing: healthListing, auth: requireToken(config.ingestToken), log }));
  if (local)
    app.use(
      previewRoutes({ local, auth: requireToken(config.ingestToken), ingestToken: config.ingestToken, log }),
    );
  finishHttpApp(app, log);
  if (config.slack?.appToken && slackApp) await slackApp.start();

  const http = await listen(
    (req, res) => (isFalcoIngest(req) ? falcoEndpoint(req, res) : app(req, res)),
    config.port,
  );
  // Falco's http_output keeps connections alive; keep ours open a little longer than typical proxies.
  http.server.keepAliveTimeout = 65_000;
  const { server, port } = http;
  // The local workspace sends modal submissions, clicks in views and events to the app, as Slack
  // does to the Request URL in the app's settings.
  if (local) local.requestUrl = `http://127.0.0.1:${port}/slack/events`;
  log.info(
    { port },
    `listening on port ${port}: POST /falco, GET /alerts/:uuid, /silences, /tuning/falco-rules.yaml, /metrics, /healthz, /readyz${config.slack && !config.slack.appToken && !local ? ", POST /slack/events" : ""}${local ? ", GET /preview" : ""}${config.adminPassword ? ", GET /admin/queues" : ""}`,
  );

  return {
    server,
    port,
    async close() {
      await http.close();
      tuningHold.stop();
      unwatchFalcoHosts();
      await healthJobs.close();
      if (slackApp && config.slack?.appToken) await slackApp.stop();
      await queues.close();
      activeSilences.stop();
      await silenceJobs.close();
      redis.disconnect();
      queueRedis.disconnect();
    },
  };
}

export interface WorkerProcess extends Running {
  /** One BullMQ worker per Slack channel the routing can post to. */
  workers: Worker[];
  /** The backlog notices' check (null: BACKLOG_NOTICE_SECONDS=0, preview mode, or no pace). */
  backlog: BacklogWatch | null;
}

export interface WorkerOptions extends ProcessOptions {
  /** Where preview mode prints rendered messages (stdout by default). */
  preview?: (text: string) => void;
  /** Posting to preview mode's local workspace, which has no rate limit to respect. */
  localWorkspace?: boolean;
}

/** BullMQ workers that enrich alerts and post them: the `worker` process. */
export async function startWorker({
  config,
  redisUrl,
  kb,
  log,
  preview,
  localWorkspace = false,
}: WorkerOptions): Promise<WorkerProcess> {
  startProcessMetrics();
  const storeRedis = producerConnection(redisUrl, "falco-chatops:worker-store", {
    cluster: config.redisCluster,
  });
  const bullRedis = workerConnection(redisUrl, "falco-chatops:worker", { cluster: config.redisCluster });
  if (!(await awaitReady(storeRedis, 3000)))
    log.error({ redisUrl: redactUrl(redisUrl) }, "Redis is not reachable yet: waiting for it");
  const store = new AlertStore(storeRedis, config.keyPrefix);
  const slack = config.slack
    ? {
        client: createSlackClient(config.slack.botToken, config.slack.apiUrl, log),
        channel: config.slack.channel,
        local: localWorkspace,
      }
    : null;
  const queues = new DeliveryQueues(storeRedis, config.keyPrefix, config.grouping.updateSeconds * 1000);
  const healthStore = new HealthStore(storeRedis, config.keyPrefix);
  const visibility = visibilityLookup(healthStore);
  const delivery = new AlertDelivery({
    store,
    kb,
    slack,
    log,
    preview,
    followUp: (channel, leader, priority) => queues.enqueueUpdates([{ channel, leader, priority }]),
    visibility,
  });
  const rollups = new RollupDelivery({
    rollups: new RollupStore(storeRedis, config.keyPrefix),
    slack,
    log,
    preview,
    followUp: (channel, rollup, priority) => queues.enqueueRollupUpdates([{ channel, rollup, priority }]),
  });
  const silenceStore = new SilenceStore(storeRedis, config.keyPrefix);
  const silenceWorker = createSilenceWorker({
    connection: bullRedis,
    keyPrefix: config.keyPrefix,
    end: (id) =>
      endSilence(id, {
        silences: silenceStore,
        store,
        kb,
        client: slack?.client ?? null,
        log,
        visibility,
      }),
    log,
  });
  // Falco's health messages: the heartbeat check (a BullMQ job scheduler: one run per tick across
  // every worker process) and each host's drops message.
  const healthJobs = new HealthJobs(storeRedis, config.keyPrefix, config.grouping.updateSeconds * 1000);
  await healthJobs.scheduleCheck(config.health.heartbeatMissingSeconds);
  const healthMessenger = new HealthMessenger({
    store: healthStore,
    client: slack?.client ?? null,
    // Preview mode's channel stands for the local workspace's alert channel, as for alerts.
    channel: config.health.channel === PREVIEW_CHANNEL && slack ? slack.channel : config.health.channel,
    heartbeatMissingSeconds: config.health.heartbeatMissingSeconds,
    log,
  });
  const healthWorker = createHealthWorker({
    connection: bullRedis,
    keyPrefix: config.keyPrefix,
    check: () => healthMessenger.check(),
    showEpisode: (host) => healthMessenger.showEpisode(host),
    log,
  });
  const channels = routingChannels(config.routing);
  // Preview mode's local workspace takes every post at once: no pace, so no backlog to announce.
  const maxPerSecond = slack && !localWorkspace ? config.slackMaxPostsPerSecond : null;
  const workers = channels.map((channel) =>
    createDeliveryWorker(channel, {
      connection: bullRedis,
      keyPrefix: config.keyPrefix,
      concurrency: config.workerConcurrency,
      lockSeconds: config.jobLockSeconds,
      maxPerSecond,
      delivery,
      rollups,
      store,
      log,
    }),
  );
  log.info(
    { concurrency: config.workerConcurrency, channels },
    localWorkspace
      ? "worker in preview mode: posting to the local workspace shown at /preview"
      : slack
        ? `worker posting to Slack channel${channels.length > 1 ? "s" : ""} ${channels.join(", ")}`
        : "worker in preview mode: messages are printed here",
  );
  const notices =
    slack && maxPerSecond && config.backlogNoticeSeconds > 0
      ? new BacklogNotices({
          client: slack.client,
          store: new BacklogNoticeStore(storeRedis, config.keyPrefix),
          postsPerSecond: maxPerSecond,
          noticeSeconds: config.backlogNoticeSeconds,
          makeRoom: async (channel) => {
            await queues.takeTurn(channel);
          },
          log,
        })
      : null;
  const backlog = notices
    ? new BacklogWatch({
        channels,
        count: (channel) => queues.waitingPosts(channel),
        report: (channel, waiting) => notices.check(channel, waiting),
        log,
      })
    : null;
  backlog?.start();
  const metrics = config.workerMetricsPort
    ? await listen(workerMetricsApp(), config.workerMetricsPort)
    : null;
  return {
    workers,
    backlog,
    async close() {
      await backlog?.stop();
      await metrics?.close();
      await Promise.all(workers.map((w) => w.close()));
      await silenceWorker.close();
      await healthWorker.close();
      await healthJobs.close();
      await queues.close();
      bullRedis.disconnect();
      storeRedis.disconnect();
    },
  };
}

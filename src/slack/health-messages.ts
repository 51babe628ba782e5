import type { WebClient } from "@slack/web-api";
import type { Logger } from "pino";
import { episodeMessage, outageMessage } from "../../blocks/health.js";
import type { SlackMessage } from "../../blocks/limits.js";
import { hostId } from "../health/signals.js";
import { slackCalls } from "../metrics.js";
import type { HealthMessageKind, HealthStore } from "../store/health-store.js";
import { classifySlackError } from "./client.js";
import { SAFE_POST_OPTIONS } from "./delivery.js";

/** A claim to post a health message is taken over after this long: its worker died meanwhile. */
const STALE_CLAIM_MS = 60_000;

export interface HealthMessengerOptions {
  store: HealthStore;
  /** null: no workspace (preview mode printing to the terminal): health changes are only logged. */
  client: WebClient | null;
  /** SLACK_HEALTH_CHANNEL, else the alert channel. */
  channel: string;
  heartbeatMissingSeconds: number;
  log: Logger;
  now?: () => number;
}

/**
 * Falco's health messages, posted and updated with Slack's Web API from the worker's health jobs:
 * the heartbeat check (one message per outage: posted when a host goes silent, updated when it is
 * back) and a host's drops message (one per visibility episode, updated with its totals). A refused
 * call throws, so that the job is retried (or, for the check, the next tick tries again).
 */
export class HealthMessenger {
  private readonly now: () => number;

  constructor(private readonly options: HealthMessengerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The heartbeat check: opens outages of hosts gone silent and closes those heard from again. */
  async check(): Promise<void> {
    const { store, heartbeatMissingSeconds } = this.options;
    if (heartbeatMissingSeconds <= 0) return;
    const now = this.now();
    const thresholdMs = heartbeatMissingSeconds * 1000;
    const [watched, open] = await Promise.all([store.watched(), store.openOutages()]);
    const openSet = new Set(open);
    const lastSeen = await store.lastSeen([...watched.keys()]);
    for (const [host, snapshotAt] of watched) {
      if (openSet.has(host)) continue;
      if (now - Math.max(lastSeen.get(host) ?? 0, snapshotAt) < thresholdMs) continue;
      const opened = await store.openOutage(host, { now, thresholdMs, snapshotAt });
      if (opened.kind === "opened") {
        this.options.log.warn(
          { host, since: new Date(opened.since).toISOString() },
          "a Falco host went silent",
        );
        await this.showOutage(host);
      }
    }
    for (const host of open) {
      const closed = await store.closeOutage(host);
      if (closed.kind === "back") {
        this.options.log.info(
          { host, silentMs: closed.backAt - closed.since },
          "a silent Falco host is back",
        );
        await this.showBack(host, closed);
      } else if (closed.kind === "silent") await this.showOutage(host); // a post that failed before
    }
  }

  /** Posts the outage's message, once (claimHealthPost.lua). */
  private async showOutage(host: string): Promise<void> {
    const outage = await this.options.store.outage(host);
    if (!outage || outage.message) return;
    await this.post("outage", host, () =>
      outageMessage({
        host,
        since: outage.since,
        backAt: null,
        heartbeatMissingSeconds: this.options.heartbeatMissingSeconds,
      }),
    );
  }

  /** Updates the outage's message to say the host is back, then forgets the outage. */
  private async showBack(host: string, closed: { since: number; backAt: number }): Promise<void> {
    const outage = await this.options.store.outage(host);
    if (outage?.message && this.options.client) {
      const message = outageMessage({
        host,
        since: closed.since,
        backAt: closed.backAt,
        heartbeatMissingSeconds: this.options.heartbeatMissingSeconds,
      });
      await this.update(outage.message, message);
    }
    await this.options.store.finishOutage(host);
  }

  /** Posts a host's drops message, or updates it with the episode's totals. */
  async showEpisode(host: string): Promise<void> {
    const episode = await this.options.store.episode(host);
    if (!episode) return;
    const render = () => episodeMessage(episode);
    if (episode.message) {
      if (this.options.client) await this.update(episode.message, render());
      return;
    }
    // Drops that arrive while this job runs queue a job of the next slot, which updates the message.
    const posted = await this.post("episode", host, render);
    // Another worker is posting it: try again shortly, so that this job's totals are shown.
    if (posted === "busy") throw new Error("the host's drops message is being posted by another worker");
  }

  /**
   * Claims and posts a health message; answers its ts, "busy" when another worker holds the claim,
   * or null when it was posted already or there is nothing to post to.
   */
  private async post(
    kind: HealthMessageKind,
    host: string,
    render: () => SlackMessage,
  ): Promise<string | "busy" | null> {
    const { store, client, channel, log } = this.options;
    if (!client) {
      log.warn({ host, kind }, `Falco health: ${render().text}`);
      return null;
    }
    const claim = await store.claimPost(kind, host, this.now(), STALE_CLAIM_MS);
    if (claim.kind === "busy") return "busy";
    if (claim.kind !== "claimed") return null;
    const message = render();
    try {
      const result = await client.chat.postMessage({
        channel,
        text: message.text,
        blocks: message.blocks,
        metadata: { event_type: "falco_health", event_payload: { host: hostId(host), kind } },
        ...SAFE_POST_OPTIONS,
      });
      slackCalls.inc({ method: "chat.postMessage", outcome: "ok" });
      if (!result.ts) throw new Error("Slack answered chat.postMessage without a ts");
      await store.setPosted(kind, host, { channel, ts: result.ts });
      log.info({ host, kind, channel, ts: result.ts }, "Falco health message posted");
      return result.ts;
    } catch (error) {
      await store.releasePost(kind, host);
      throw this.refused("chat.postMessage", error);
    }
  }

  private async update(ref: { channel: string; ts: string }, message: SlackMessage): Promise<void> {
    try {
      await this.options.client!.chat.update({
        channel: ref.channel,
        ts: ref.ts,
        text: message.text,
        blocks: message.blocks,
      });
      slackCalls.inc({ method: "chat.update", outcome: "ok" });
    } catch (error) {
      const info = classifySlackError(error);
      // Deleted by someone: nothing left to update, and nothing to retry.
      if (info.code === "message_not_found") return;
      throw this.refused("chat.update", error);
    }
  }

  private refused(method: "chat.postMessage" | "chat.update", error: unknown): Error {
    const info = classifySlackError(error);
    slackCalls.inc({ method, outcome: info.kind === "rate_limited" ? "rate_limited" : info.code });
    if (info.kind === "permanent")
      this.options.log.error({ slackError: info.code }, `Slack refused a Falco health message: ${info.hint}`);
    return new Error(`Slack refused ${method}: ${info.code}`);
  }
}

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { RedisClient } from "../redis/connection.js";
import { StoreKeys } from "./keys.js";

function lua(name: string): string {
  return readFileSync(new URL(`./commands/${name}.lua`, import.meta.url), "utf8");
}

const SCRIPTS = {
  fcClaimNotice: { numberOfKeys: 1, lua: lua("claimNotice") },
  fcSettleNotice: { numberOfKeys: 1, lua: lua("settleNotice") },
} as const;

interface BacklogNoticeCommands {
  fcClaimNotice(...keysAndArgs: string[]): Promise<unknown>;
  fcSettleNotice(...keysAndArgs: string[]): Promise<unknown>;
}

/**
 * How long a claim on a notice lasts unless settled: longer than a Slack call with the WebClient's
 * retries (10 s timeout, two retries), so that only a process that died lets it lapse.
 */
export const NOTICE_CLAIM_MS = 60_000;

/** A channel's notice state is dropped a day after the last check touched it (no worker left). */
const KEEP_SECONDS = 24 * 60 * 60;

/** What the channel's notice needs, for the one process that claimed it (see claimNotice.lua). */
export type NoticeTask =
  | { kind: "post"; peak: number; claim: string }
  | { kind: "update" | "clear"; ts: string; peak: number; claim: string }
  | { kind: "none" };

const claimReply = z.union([
  z.tuple([z.literal("post"), z.number().int()]),
  z.tuple([z.enum(["update", "clear"]), z.string(), z.number().int()]),
  z.tuple([z.literal("none")]),
]);

/** How Slack answered the claim's holder. */
export type NoticeOutcome =
  | { kind: "posted"; ts: string; shown: number }
  | { kind: "updated"; shown: number }
  | { kind: "cleared" | "gone" | "failed" };

export interface NoticeCheck {
  /** Posts waiting in the channel now. */
  waiting: number;
  /** More than this many waiting: a notice is due. */
  threshold: number;
  /** This many or fewer: the backlog has cleared. */
  clearAt: number;
  /** The count is shown again no sooner than this after it was last shown. */
  updateEveryMs: number;
  now: Date;
}

/**
 * Each channel's backlog notice in Redis (StoreKeys.backlogNotice): the Slack message's ts, the
 * count it shows and when it was shown, the most that waited, and which process is talking to Slack
 * about it. Claiming and settling are scripts, so that worker processes sharing one Redis post one
 * notice per channel between them.
 */
export class BacklogNoticeStore {
  private readonly redis: RedisClient & BacklogNoticeCommands;
  readonly keys: StoreKeys;

  constructor(redis: RedisClient, prefix: string) {
    if (!("fcClaimNotice" in redis))
      for (const [name, definition] of Object.entries(SCRIPTS)) redis.defineCommand(name, definition);
    this.redis = redis as RedisClient & BacklogNoticeCommands;
    this.keys = new StoreKeys(prefix);
  }

  /** What the channel's notice needs now; anything but "none" must be settled by the caller. */
  async claim(channel: string, check: NoticeCheck): Promise<NoticeTask> {
    const claim = randomBytes(8).toString("hex");
    const reply = claimReply.parse(
      await this.redis.fcClaimNotice(
        this.keys.backlogNotice(channel),
        String(check.waiting),
        String(check.threshold),
        String(check.clearAt),
        String(check.now.getTime()),
        String(check.updateEveryMs),
        claim,
        String(NOTICE_CLAIM_MS),
        String(KEEP_SECONDS),
      ),
    );
    if (reply[0] === "none") return { kind: "none" };
    if (reply[0] === "post") return { kind: "post", peak: reply[1], claim };
    return { kind: reply[0], ts: reply[1], peak: reply[2], claim };
  }

  /** Records Slack's answer; false when the claim had lapsed meanwhile (another process took it). */
  async settle(channel: string, claim: string, outcome: NoticeOutcome, now: Date): Promise<boolean> {
    const reply = await this.redis.fcSettleNotice(
      this.keys.backlogNotice(channel),
      claim,
      outcome.kind,
      "shown" in outcome ? String(outcome.shown) : "",
      String(now.getTime()),
      outcome.kind === "posted" ? outcome.ts : "",
    );
    return reply === 1;
  }

  /** The ts of the channel's notice while one is posted. */
  async messageTs(channel: string): Promise<string | null> {
    return (await this.redis.hget(this.keys.backlogNotice(channel), "ts")) || null;
  }
}

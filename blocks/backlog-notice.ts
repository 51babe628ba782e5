import { slackDate } from "./escape.js";
import { md } from "./layout.js";
import type { SlackMessage } from "./limits.js";

/** What the backlog notice of one channel says (see src/slack/backlog-notice.ts). */
export interface BacklogNoticeView {
  /** Alerts waiting to be posted in the channel (their first messages, not counter updates). */
  waiting: number;
  /** The most that waited since the notice was posted. */
  peak: number;
  /** The channel's pace, SLACK_MAX_POSTS_PER_SECOND. */
  postsPerSecond: number;
  /** When the count was taken. */
  at: Date;
  /** "cleared" once the backlog is gone: the same message, marked done. */
  state: "waiting" | "cleared";
}

const count = (n: number) => n.toLocaleString("en-US");
const plural = (n: number, one: string, many: string) => `${count(n)} ${n === 1 ? one : many}`;

/** "about 40 seconds", "about 21 minutes", "about 2 hours": how long the channel's pace takes. */
export function roughDuration(seconds: number): string {
  if (seconds < 90) return `about ${plural(Math.max(1, Math.round(seconds)), "second", "seconds")}`;
  if (seconds < 90 * 60) return `about ${plural(Math.round(seconds / 60), "minute", "minutes")}`;
  return `about ${plural(Math.round(seconds / 3600), "hour", "hours")}`;
}

/**
 * The message a channel gets when more alerts wait for it than its pace posts in BACKLOG_NOTICE_SECONDS:
 * how many wait, how long the last of them is away, and where to read them now. It is updated as the
 * count moves and marked cleared, in place, when the backlog is gone. Every value in it is a number
 * or a date this app made; no alert text reaches it.
 */
export function renderBacklogNotice(view: BacklogNoticeView): SlackMessage {
  const when = slackDate(view.at.toISOString());
  if (view.state === "cleared")
    return {
      text: "Backlog cleared: alerts reach this channel without delay again",
      blocks: [
        {
          type: "section",
          text: md(
            `:white_check_mark: *Backlog cleared.* Alerts reach this channel without delay again. At the most, ${plural(view.peak, "alert was", "alerts were")} waiting to be posted.`,
          ),
        },
        { type: "context", elements: [md(`Cleared ${when}`)] },
      ],
    };
  const waiting = plural(view.waiting, "alert is", "alerts are");
  const pace = plural(view.postsPerSecond, "message", "messages");
  const lastIn = roughDuration(view.waiting / view.postsPerSecond);
  return {
    text: `${waiting} waiting to be posted in this channel; /falco recent lists them now`,
    blocks: [
      {
        type: "section",
        text: md(
          `:hourglass_flowing_sand: *${waiting} waiting to be posted here.* Slack takes ${pace} a second in a channel, so the last of them is ${lastIn} away. Critical and higher alerts go ahead of the others.`,
        ),
      },
      {
        type: "section",
        text: md(
          "`/falco recent` lists the ten latest alerts now, posted or not, and `/falco <uuid>` shows any one of them.",
        ),
      },
      {
        type: "context",
        elements: [
          md(`Updated ${when} · this message follows the count and says when the backlog has cleared`),
        ],
      },
    ],
  };
}

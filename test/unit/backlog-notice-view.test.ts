import { describe, expect, it } from "vitest";
import { renderBacklogNotice, roughDuration } from "../../blocks/backlog-notice.js";
import { limitProblems } from "../../blocks/limits.js";
import { slackBlockProblem } from "../../src/preview/slack-block-rules.js";

const at = new Date("2025-06-01T10:00:00Z");
const date = "<!date^1748772000^{date_short_pretty} at {time_secs}|2025-06-01T10:00:00.000Z>";

describe("the backlog notice", () => {
  it("says how many alerts wait, how long the last is away, and where to read them now", () => {
    const message = renderBacklogNotice({
      waiting: 1234,
      peak: 1234,
      postsPerSecond: 1,
      at,
      state: "waiting",
    });
    expect(message).toEqual({
      text: "1,234 alerts are waiting to be posted in this channel; /falco recent lists them now",
      blocks: [
        {
          type: "section",
          text: {
            type: "mrkdwn",
            verbatim: true,
            text: ":hourglass_flowing_sand: *1,234 alerts are waiting to be posted here.* Slack takes 1 message a second in a channel, so the last of them is about 21 minutes away. Critical and higher alerts go ahead of the others.",
          },
        },
        {
          type: "section",
          text: {
            type: "mrkdwn",
            verbatim: true,
            text: "`/falco recent` lists the ten latest alerts now, posted or not, and `/falco <uuid>` shows any one of them.",
          },
        },
        {
          type: "context",
          elements: [
            {
              type: "mrkdwn",
              verbatim: true,
              text: `Updated ${date} · this message follows the count and says when the backlog has cleared`,
            },
          ],
        },
      ],
    });
    expect(limitProblems(message.blocks)).toEqual([]);
    expect(slackBlockProblem(message.blocks)).toBeNull();
  });

  it("is marked cleared in place, with the most that waited", () => {
    const message = renderBacklogNotice({ waiting: 3, peak: 1500, postsPerSecond: 1, at, state: "cleared" });
    expect(message).toEqual({
      text: "Backlog cleared: alerts reach this channel without delay again",
      blocks: [
        {
          type: "section",
          text: {
            type: "mrkdwn",
            verbatim: true,
            text: ":white_check_mark: *Backlog cleared.* Alerts reach this channel without delay again. At the most, 1,500 alerts were waiting to be posted.",
          },
        },
        { type: "context", elements: [{ type: "mrkdwn", verbatim: true, text: `Cleared ${date}` }] },
      ],
    });
    expect(slackBlockProblem(message.blocks)).toBeNull();
  });

  it("counts the wait at the channel's pace, in words that fit its length", () => {
    const text = (waiting: number, postsPerSecond: number) =>
      renderBacklogNotice({ waiting, peak: waiting, postsPerSecond, at, state: "waiting" }).blocks[0];
    expect(JSON.stringify(text(300, 5))).toContain(
      "Slack takes 5 messages a second in a channel, so the last of them is about 60 seconds away.",
    );
    expect(JSON.stringify(text(1, 1))).toContain("*1 alert is waiting to be posted here.*");
    expect(roughDuration(0.2)).toBe("about 1 second");
    expect(roughDuration(89)).toBe("about 89 seconds");
    expect(roughDuration(90)).toBe("about 2 minutes");
    expect(roughDuration(60 * 60)).toBe("about 60 minutes");
    expect(roughDuration(3 * 60 * 60)).toBe("about 3 hours");
    expect(roughDuration(90 * 60)).toBe("about 2 hours");
  });
});

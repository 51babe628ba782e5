import type { App, BlockAction, ButtonAction, ViewSubmitAction } from "@slack/bolt";
import { permalinkOf } from "../../permalink.js";
import type { ChatPostMessageArguments, ViewsOpenArguments, WebClient } from "@slack/web-api";
import { z } from "zod";
import { escapeMrkdwn, slackDate, truncate, userMention } from "../../../../blocks/escape.js";
import { NOTE_SHOWN_CHARS, verdictText } from "../../../../blocks/resolution.js";
import { RESOLVE_MODAL } from "../../../../blocks/resolve-modal.js";
import { silencedWhat, silenceModal, SILENCE_MODAL } from "../../../../blocks/silence.js";
import { sharedScope } from "../../../silence/scope.js";
import { DURATIONS, MAX_SILENCE_DAYS } from "../../../silence/silence.js";
import { summaryOf } from "../../silence-end.js";
import { readSilenceForm } from "../silence/index.js";
import {
  ROLLUP_ACTIONS,
  ROLLUP_RESOLVE_CALLBACK,
  ROLLUP_SILENCE_CALLBACK,
  renderRollupMessage,
  rollupEscalation,
  rollupReportMessages,
  rollupResolveModal,
} from "../../../../blocks/rollup-message.js";
import type { SlackRef } from "../../../store/alert-store.js";
import type { RollupStore } from "../../../store/rollups.js";
import { classifySlackError } from "../../client.js";
import { SAFE_POST_OPTIONS } from "../../delivery.js";
import { rollupView } from "../../rollup-delivery.js";
import { notAResponder } from "../actions/responders.js";
import { buttonHandler, type Click, clickedMessage } from "../button.js";
import { refreshAlertMessage } from "../message-refresh.js";
import type { ListenerDeps } from "../deps.js";
import { openModal, tellPrivately } from "../open-modal.js";
import { readResolveForm } from "../views/resolution.js";

/** Members listed in the roll-up's thread by Full report; GET /rollups/:id lists every one. */
export const REPORT_MEMBERS = 200;

/**
 * Members whose alerts a silence from a roll-up reads to find the values they all share. A larger
 * roll-up is silenced for its whole rule: reading every member would outlast the 3 seconds Slack
 * gives to open the modal, and a value checked on only some members could hide another one's.
 */
export const SILENCE_SCOPE_MEMBERS = 1000;

/** The values every member of the roll-up carries (none when it has too many members to read). */
async function rollupScope(rollups: RollupStore, id: string) {
  if ((await rollups.memberCount(id)) > SILENCE_SCOPE_MEMBERS) return [];
  return sharedScope(await rollups.memberAlerts(id, SILENCE_SCOPE_MEMBERS));
}

/**
 * Re-renders the roll-up's message from what the store holds now, and the messages of its members
 * that were posted on their own before it opened (they were acted on too); answers the roll-up
 * message's ref.
 */
async function refreshRollupMessage(
  client: WebClient,
  deps: Pick<ListenerDeps, "store" | "kb" | "log">,
  rollups: RollupStore,
  id: string,
  fallback: SlackRef | null,
): Promise<SlackRef | null> {
  const r = await rollups.get(id);
  const ref = r?.slack ?? fallback;
  if (!r || !ref) return null;
  const message = renderRollupMessage(rollupView(r));
  await client.chat.update({ channel: ref.channel, ts: ref.ts, text: message.text, blocks: message.blocks });
  for (const uuid of r.ownMessages)
    await refreshAlertMessage(client, deps, uuid, null).catch((error: unknown) =>
      deps.log.warn({ err: error, uuid, rollup: id }, "could not update a roll-up member's own message"),
    );
  return ref;
}

/**
 * Posts one of several thread replies in a row. Replies count against the channel's one message per
 * second too, and the client refuses a 429 rather than waiting: this waits Slack's Retry-After and
 * tries again (a few times), so that a long member list is not cut short.
 */
async function pacedPost(client: WebClient, message: ChatPostMessageArguments): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await client.chat.postMessage(message);
      return;
    } catch (error) {
      const info = classifySlackError(error);
      if (info.kind !== "rate_limited" || attempt >= 4) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, info.retryAfterSeconds) * 1000));
    }
  }
}

const target = z.object({ rollup: z.string().min(1), channel: z.string().min(1), ts: z.string().min(1) });

/**
 * The buttons of a fleet roll-up's message. Acknowledge, Escalate and Resolve act on the roll-up
 * (the first click wins, as for an alert) and then on every member group's first alert; Full report
 * lists the members in the thread. Everyone SLACK_ALLOWED_RESPONDERS does not list is refused.
 */
export function register(app: App, deps: ListenerDeps): void {
  const { log, responders } = deps;
  const rollups = deps.rollups;
  const handle = (work: (client: WebClient, click: Click, rollups: RollupStore) => Promise<void>) =>
    buttonHandler(deps, async (client, click) => {
      if (!rollups) return tellPrivately(client, click, "Fleet roll-ups are not set up on this bot.");
      await work(client, click, rollups);
    });
  const gone = (id: string) => `This roll-up (${escapeMrkdwn(id)}) is no longer stored.`;

  async function claim(
    kind: "acknowledged" | "escalated",
    client: WebClient,
    click: Click,
    rollups: RollupStore,
  ): Promise<void> {
    const verb = kind === "acknowledged" ? "acknowledge" : "escalate";
    if (!(await responders.allows(client, click.user))) {
      log.warn({ rollup: click.uuid, user: click.user }, "refused: not in SLACK_ALLOWED_RESPONDERS");
      await tellPrivately(client, click, notAResponder(`${verb} alerts`));
      return;
    }
    const at = new Date();
    const result = await rollups.claim(click.uuid, kind, click.user, at);
    if (result.outcome === "missing") return tellPrivately(client, click, gone(click.uuid));
    if (result.outcome === "already") {
      const who = result.by === click.user ? "You" : userMention(result.by);
      await tellPrivately(
        client,
        click,
        `${who} already ${kind} this roll-up${result.at ? ` at ${slackDate(result.at)}` : ""}.`,
      );
      return;
    }
    log.info({ rollup: click.uuid, user: click.user, members: result.members }, `roll-up ${kind}`);
    const ref = await refreshRollupMessage(client, deps, rollups, click.uuid, clickedMessage(click));
    await deps.threadLog.record(client, ref, {
      user: click.user,
      what: `${kind} it, with ${(result.members ?? 0).toLocaleString("en-US")} member groups`,
      at,
    });
    if (kind === "escalated") await escalate(client, click, rollups, ref);
  }

  async function escalate(client: WebClient, click: Click, rollups: RollupStore, ref: SlackRef | null) {
    const r = await rollups.get(click.uuid);
    if (!r) return;
    const permalink = await permalinkOf(client, ref, (error) =>
      log.warn({ err: error, rollup: click.uuid }, "could not get the roll-up's permalink"),
    );
    const message = rollupEscalation(rollupView(r), click.user, permalink);
    await client.chat.postMessage({
      channel: deps.escalationChannel,
      text: message.text,
      blocks: message.blocks,
      ...SAFE_POST_OPTIONS,
    });
  }

  app.action<BlockAction<ButtonAction>>(
    ROLLUP_ACTIONS.acknowledge,
    handle((client, click, rollups) => claim("acknowledged", client, click, rollups)),
  );
  app.action<BlockAction<ButtonAction>>(
    ROLLUP_ACTIONS.escalate,
    handle((client, click, rollups) => claim("escalated", client, click, rollups)),
  );

  app.action<BlockAction<ButtonAction>>(
    ROLLUP_ACTIONS.resolve,
    handle(async (client, click, rollups) => {
      if (!(await responders.allows(client, click.user))) {
        log.warn({ rollup: click.uuid, user: click.user }, "refused: not in SLACK_ALLOWED_RESPONDERS");
        return tellPrivately(client, click, notAResponder("resolve alerts"));
      }
      const r = await rollups.get(click.uuid);
      if (!r) return tellPrivately(client, click, gone(click.uuid));
      if (r.resolution)
        return tellPrivately(
          client,
          click,
          `${r.resolution.by === click.user ? "You" : userMention(r.resolution.by)} already resolved this roll-up as ${verdictText(r.resolution.verdict)} at ${slackDate(r.resolution.at)}.`,
        );
      const message = r.slack ?? clickedMessage(click);
      if (!message) return;
      const view = rollupResolveModal(rollupView(r), { rollup: r.id, ...message });
      await openModal(client, {
        triggerId: click.triggerId ?? "",
        view: view as unknown as ViewsOpenArguments["view"],
        who: click,
        log,
      });
    }),
  );

  app.view<ViewSubmitAction>(ROLLUP_RESOLVE_CALLBACK, async ({ ack, body, view, client }) => {
    const user = body.user.id;
    const errors = (errors: Record<string, string>) => ack({ response_action: "errors", errors });
    let about: z.output<typeof target> | null = null;
    try {
      const parsed = target.safeParse(JSON.parse(view.private_metadata));
      about = parsed.success ? parsed.data : null;
    } catch {
      about = null;
    }
    if (!about || !rollups)
      return errors({
        [RESOLVE_MODAL.verdictBlock]:
          "This form does not say which roll-up it is for. Close it and press Resolve all on the roll-up again.",
      });
    const form = readResolveForm(view.state.values);
    if ("errors" in form) return errors(form.errors);
    if (!(await responders.allows(client, user)))
      return errors({ [RESOLVE_MODAL.verdictBlock]: notAResponder("resolve alerts") });
    const at = new Date();
    let result: Awaited<ReturnType<RollupStore["resolve"]>>;
    try {
      result = await rollups.resolve(about.rollup, { ...form, by: user, at });
    } catch (error) {
      log.error({ err: error, rollup: about.rollup }, "could not record a roll-up's resolution");
      return errors({
        [RESOLVE_MODAL.verdictBlock]:
          "The resolution could not be saved (Redis unavailable?). Please try again.",
      });
    }
    await ack();
    const who = { user, channel: about.channel };
    try {
      if (result.outcome === "missing") return await tellPrivately(client, who, gone(about.rollup));
      if (result.outcome === "already") {
        const as = result.verdict ? ` as ${verdictText(result.verdict)}` : "";
        return await tellPrivately(
          client,
          who,
          `${result.by === user ? "You" : userMention(result.by)} resolved this roll-up${as}${result.at ? ` at ${slackDate(result.at)}` : ""}, before you did: your verdict was not recorded.`,
        );
      }
      log.info(
        { rollup: about.rollup, user, verdict: form.verdict, members: result.members },
        "roll-up resolved",
      );
      const ref = await refreshRollupMessage(client, deps, rollups, about.rollup, about);
      const note = form.note ? `: ${escapeMrkdwn(truncate(form.note, NOTE_SHOWN_CHARS))}` : "";
      await deps.threadLog.record(client, ref, {
        user,
        what: `resolved it, with ${(result.members ?? 0).toLocaleString("en-US")} member groups, as ${verdictText(form.verdict)}${note}`,
        at,
      });
    } catch (error) {
      log.error({ err: error, rollup: about.rollup }, "resolved, but updating Slack failed");
    }
  });

  app.action<BlockAction<ButtonAction>>(
    ROLLUP_ACTIONS.silence,
    handle(async (client, click, rollups) => {
      if (!deps.silences) return tellPrivately(client, click, "Silences are not set up on this bot.");
      if (!(await responders.allows(client, click.user))) {
        log.warn({ rollup: click.uuid, user: click.user }, "refused: not in SLACK_ALLOWED_RESPONDERS");
        return tellPrivately(client, click, notAResponder("silence or unsilence alerts"));
      }
      const r = await rollups.get(click.uuid);
      if (!r) return tellPrivately(client, click, gone(click.uuid));
      const view = {
        ...silenceModal({
          uuid: r.id,
          rule: r.rule,
          priority: r.priority,
          scope: await rollupScope(rollups, r.id),
          durations: Object.fromEntries(Object.entries(DURATIONS).map(([k, d]) => [k, d.label])),
          maxDays: MAX_SILENCE_DAYS,
        }),
        callback_id: ROLLUP_SILENCE_CALLBACK,
      };
      await openModal(client, {
        triggerId: click.triggerId ?? "",
        view: view as unknown as ViewsOpenArguments["view"],
        who: click,
        log,
      });
    }),
  );

  app.view<ViewSubmitAction>(ROLLUP_SILENCE_CALLBACK, async ({ ack, body, view, client }) => {
    const user = body.user.id;
    const id = view.private_metadata;
    const refuse = (message: string) =>
      ack({ response_action: "errors", errors: { [SILENCE_MODAL.reason.block]: message } });
    if (!deps.silences || !rollups) return refuse("Silences are not set up on this bot.");
    if (!(await responders.allows(client, user))) return refuse(notAResponder("silence or unsilence alerts"));
    const r = await rollups.get(id);
    if (!r) return refuse("This roll-up is no longer stored: nothing to silence.");
    // The values are read again: the form sends back only which of the offered ones were checked.
    const scope = await rollupScope(rollups, id);
    const now = new Date();
    const form = readSilenceForm(
      view.state.values as Parameters<typeof readSilenceForm>[0],
      scope.map((s) => s.field),
      now,
    );
    if ("errors" in form) return ack({ response_action: "errors", errors: form.errors });
    let silence;
    try {
      silence = await deps.silences.create(
        {
          rule: r.rule,
          priority: r.priority,
          match: Object.fromEntries(
            scope.filter((s) => form.fields.includes(s.field)).map((s) => [s.field, s.value]),
          ),
          createdBy: user,
          reason: form.reason,
          endsAt: form.endsAt,
          alert: null,
          // Its end is reported in the roll-up's thread.
          message: r.slack,
        },
        now,
      );
    } catch (error) {
      log.error({ err: error, rollup: id }, "could not save a silence");
      return refuse("The silence could not be saved (Redis unavailable?). Please try again.");
    }
    await ack();
    log.info({ silence: silence.id, rollup: id, user }, "silence made from a roll-up");
    await deps.threadLog.record(client, r.slack, {
      user,
      what: silencedWhat(summaryOf(silence, 0)),
      at: new Date(silence.createdAt),
    });
  });

  app.action<BlockAction<ButtonAction>>(
    ROLLUP_ACTIONS.report,
    handle(async (client, click, rollups) => {
      const r = await rollups.get(click.uuid);
      if (!r) return tellPrivately(client, click, gone(click.uuid));
      const ref = r.slack ?? clickedMessage(click);
      if (!ref) return;
      if (!(await rollups.claimReport(click.uuid, click.user, new Date())))
        return tellPrivately(client, click, "The member list is already in this roll-up's thread.");
      try {
        const members = await rollups.members(r.id, { offset: 0, limit: REPORT_MEMBERS });
        const total = await rollups.memberCount(r.id);
        for (const part of rollupReportMessages(rollupView(r), members, {
          omitted: Math.max(0, total - members.length),
          route: `GET /rollups/${r.id}`,
        }))
          await pacedPost(client, {
            channel: ref.channel,
            thread_ts: ref.ts,
            text: part.text,
            blocks: part.blocks,
            ...SAFE_POST_OPTIONS,
          });
      } catch (error) {
        await rollups.releaseReport(click.uuid);
        throw error;
      }
    }),
  );
}

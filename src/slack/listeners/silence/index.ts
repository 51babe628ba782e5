import type { App, BlockAction, ButtonAction, ViewSubmitAction } from "@slack/bolt";
import type { ViewsOpenArguments, WebClient } from "@slack/web-api";
import { ACTIONS } from "../../../../blocks/alert-message.js";
import { escapeMrkdwn, slackDate } from "../../../../blocks/escape.js";
import {
  REASON_MAX,
  renderSilenceList,
  SILENCE_MODAL,
  silencedWhat,
  silenceModal,
  silenceScopeText,
  UNTIL_DATE,
} from "../../../../blocks/silence.js";
import type { SlackMessage } from "../../../../blocks/limits.js";
import { scopeOf } from "../../../silence/scope.js";
import {
  checkEnd,
  DURATIONS,
  isDurationChoice,
  MAX_SILENCE_DAYS,
  untilDate,
} from "../../../silence/silence.js";
import { activeSilenceSummaries } from "../../home-silences.js";
import { summaryOf } from "../../silence-end.js";
import { notAResponder } from "../actions/responders.js";
import { buttonHandler } from "../button.js";
import { refreshAlertMessage } from "../message-refresh.js";
import type { ListenerDeps } from "../deps.js";
import { type Clicker, openModal, tellPrivately } from "../open-modal.js";

const NOT_ALLOWED = notAResponder("silence or unsilence alerts");

/** What the modal's submission holds, as Slack sends it in view.state.values. */
type Values = Record<
  string,
  Record<
    string,
    {
      selected_options?: { value: string }[];
      selected_option?: { value: string } | null;
      selected_date?: string | null;
      value?: string | null;
    }
  >
>;

/** The modal's answers checked: the silence to make, or Slack's errors by block id. */
export function readSilenceForm(
  values: Values,
  offered: readonly string[],
  now: Date,
): { fields: string[]; endsAt: Date; reason: string } | { errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const fields = (
    values[SILENCE_MODAL.scope.block]?.[SILENCE_MODAL.scope.action]?.selected_options ?? []
  ).map((o) => o.value);
  if (fields.some((f) => !offered.includes(f)))
    errors[SILENCE_MODAL.scope.block] = "Pick only values this alert carries.";
  const choice =
    values[SILENCE_MODAL.duration.block]?.[SILENCE_MODAL.duration.action]?.selected_option?.value;
  const date = values[SILENCE_MODAL.until.block]?.[SILENCE_MODAL.until.action]?.selected_date ?? null;
  let endsAt: Date | null = null;
  if (choice === UNTIL_DATE) {
    if (!date) errors[SILENCE_MODAL.until.block] = "Pick the date the silence ends.";
    else {
      const until = untilDate(date, now);
      if ("problem" in until) errors[SILENCE_MODAL.until.block] = until.problem;
      else endsAt = until.endsAt;
    }
  } else if (choice && isDurationChoice(choice)) {
    if (date)
      errors[SILENCE_MODAL.until.block] =
        "You picked a date: choose “Until a date” above, or clear the date.";
    const end = checkEnd(new Date(now.getTime() + DURATIONS[choice].ms), now);
    if ("endsAt" in end) endsAt = end.endsAt;
  } else errors[SILENCE_MODAL.duration.block] = "Choose how long the silence lasts.";
  const reason = (values[SILENCE_MODAL.reason.block]?.[SILENCE_MODAL.reason.action]?.value ?? "").trim();
  if (!reason) errors[SILENCE_MODAL.reason.block] = "Say why these alerts may be silenced.";
  else if (reason.length > REASON_MAX)
    errors[SILENCE_MODAL.reason.block] = `At most ${REASON_MAX} characters.`;
  if (Object.keys(errors).length || !endsAt) return { errors };
  return { fields, endsAt, reason };
}

/** `/falco silences`: the active silences, each with its Unsilence button. */
export async function answerSilencesCommand(deps: ListenerDeps): Promise<SlackMessage> {
  if (!deps.silences) return renderSilenceList([]);
  return renderSilenceList(await activeSilenceSummaries(deps.silences.store));
}

/** The Silence and Unsilence buttons, and the Silence modal's submission. */
export function register(app: App, deps: ListenerDeps): void {
  const { store, log } = deps;
  const { responders } = deps;

  /** A Silence or Unsilence button: only with silences set up, and only for allowed responders. */
  const guarded = (
    work: (client: WebClient, who: Clicker, value: string, triggerId: string) => Promise<void>,
  ) =>
    buttonHandler(deps, async (client, click) => {
      if (!deps.silences) return tellPrivately(client, click, "Silences are not set up on this bot.");
      if (!(await responders.allows(client, click.user))) {
        log.warn({ user: click.user, value: click.uuid }, "refused: not in SLACK_ALLOWED_RESPONDERS");
        return tellPrivately(client, click, NOT_ALLOWED);
      }
      await work(client, click, click.uuid, click.triggerId ?? "");
    });

  app.action<BlockAction<ButtonAction>>(
    ACTIONS.silence,
    guarded(async (client, who, uuid, triggerId) => {
      const stored = await store.get(uuid);
      if (!stored)
        return tellPrivately(client, who, `This alert (${escapeMrkdwn(uuid)}) is no longer stored.`);
      const view = silenceModal({
        uuid,
        rule: stored.alert.rule,
        priority: stored.alert.priority,
        scope: scopeOf(stored.alert),
        durations: Object.fromEntries(Object.entries(DURATIONS).map(([k, d]) => [k, d.label])),
        maxDays: MAX_SILENCE_DAYS,
      });
      // blocks/ is typed by its own Block Kit subset; Slack's rules for the view are checked by the tests.
      await openModal(client, { triggerId, view: view as unknown as ViewsOpenArguments["view"], who, log });
    }),
  );

  app.action<BlockAction<ButtonAction>>(
    ACTIONS.unsilence,
    guarded(async (client, who, id) => {
      const result = await deps.silences!.lift(id, who.user);
      if (result.outcome === "missing")
        return tellPrivately(client, who, "That silence is no longer stored: its alerts are posted.");
      if (result.outcome === "already")
        return tellPrivately(client, who, `That silence already ended at ${slackDate(result.at)}.`);
      log.info({ silence: id, user: who.user, expired: result.expired }, "silence lifted");
      const silence = await deps.silences!.store.get(id);
      await tellPrivately(
        client,
        who,
        `Lifted the silence${silence ? ` on ${silenceScopeText(summaryOf(silence, 0))}` : ""}: its alerts are posted again.`,
      );
    }),
  );

  app.view<ViewSubmitAction>(SILENCE_MODAL.callbackId, async ({ ack, body, view, client }) => {
    const user = body.user.id;
    const uuid = view.private_metadata;
    const refuse = (block: string, message: string) =>
      ack({ response_action: "errors", errors: { [block]: message } });
    if (!deps.silences) return refuse(SILENCE_MODAL.reason.block, "Silences are not set up on this bot.");
    if (!(await responders.allows(client, user))) {
      log.warn({ user, uuid }, "refused a silence: not in SLACK_ALLOWED_RESPONDERS");
      return refuse(SILENCE_MODAL.reason.block, NOT_ALLOWED);
    }
    const stored = await store.get(uuid);
    if (!stored)
      return refuse(SILENCE_MODAL.reason.block, "This alert is no longer stored: nothing to silence.");
    const scope = scopeOf(stored.alert);
    const now = new Date();
    const form = readSilenceForm(
      view.state.values as Values,
      scope.map((s) => s.field),
      now,
    );
    if ("errors" in form) return ack({ response_action: "errors", errors: form.errors });
    let silence;
    try {
      silence = await deps.silences.create(
        {
          rule: stored.alert.rule,
          priority: stored.alert.priority,
          match: Object.fromEntries(
            scope.filter((s) => form.fields.includes(s.field)).map((s) => [s.field, s.value]),
          ),
          createdBy: user,
          reason: form.reason,
          endsAt: form.endsAt,
          alert: uuid,
          message: stored.slack,
        },
        now,
      );
    } catch (error) {
      log.error({ err: error, uuid }, "could not save a silence");
      return refuse(
        SILENCE_MODAL.reason.block,
        "The silence could not be saved (Redis unavailable?). Please try again.",
      );
    }
    await ack();
    log.info({ silence: silence.id, uuid, user }, "silence made");
    try {
      await deps.threadLog.record(client, stored.slack, {
        user,
        what: silencedWhat(summaryOf(silence, 0)),
        at: new Date(silence.createdAt),
      });
      await refreshAlertMessage(client, deps, uuid, null);
    } catch (error) {
      log.warn({ err: error, silence: silence.id }, "could not show the silence on the alert's message");
    }
  });
}

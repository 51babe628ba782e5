import type { App, ViewSubmitAction } from "@slack/bolt";
import { z } from "zod";
import { escapeMrkdwn, slackDate, truncate, userMention } from "../../../../blocks/escape.js";
import { NOTE_SHOWN_CHARS, verdictText } from "../../../../blocks/resolution.js";
import { NOTE_MAX_CHARS, RESOLVE_MODAL, type ResolveTarget } from "../../../../blocks/resolve-modal.js";
import { isVerdict, type Verdict } from "../../../falco/verdict.js";
import { secondsSinceArrival, timeToResolveSeconds, verdicts } from "../../../metrics.js";
import { notAResponder } from "../actions/responders.js";
import type { ListenerDeps } from "../deps.js";
import { refreshAlertMessage } from "../message-refresh.js";
import { tellPrivately } from "../open-modal.js";

const target = z.object({ uuid: z.string().min(1), channel: z.string().min(1), ts: z.string().min(1) });

/** The alert and message a Resolve modal is about, from its private_metadata; null if unreadable. */
function targetOf(privateMetadata: string): ResolveTarget | null {
  try {
    const parsed = target.safeParse(JSON.parse(privateMetadata));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** What was entered, or the errors to show beside the inputs (block id → message). */
export function readResolveForm(
  values: ViewSubmitAction["view"]["state"]["values"],
): { verdict: Verdict; note: string | null } | { errors: Record<string, string> } {
  const chosen = values[RESOLVE_MODAL.verdictBlock]?.[RESOLVE_MODAL.verdictAction]?.selected_option?.value;
  const note = (values[RESOLVE_MODAL.noteBlock]?.[RESOLVE_MODAL.noteAction]?.value ?? "").trim();
  const errors: Record<string, string> = {};
  if (!isVerdict(chosen)) errors[RESOLVE_MODAL.verdictBlock] = "Choose a verdict: how did this alert end?";
  const length = [...note].length;
  if (length > NOTE_MAX_CHARS)
    errors[RESOLVE_MODAL.noteBlock] =
      `The note is ${length.toLocaleString("en-US")} characters; keep it to ${NOTE_MAX_CHARS.toLocaleString("en-US")}.`;
  if (Object.keys(errors).length > 0 || !isVerdict(chosen)) return { errors };
  return { verdict: chosen, note: note || null };
}

/**
 * The Resolve modal's submission: checks the form and the person (errors shown in the modal change
 * nothing), records the resolution (the first of simultaneous ones wins; the others are told who
 * resolved it), updates the alert's message and logs the change in its thread.
 */
export function register(app: App, deps: ListenerDeps): void {
  const { store, log } = deps;
  const { responders } = deps;

  app.view<ViewSubmitAction>(RESOLVE_MODAL.callbackId, async ({ ack, body, view, client }) => {
    const user = body.user.id;
    const errors = (errors: Record<string, string>) => ack({ response_action: "errors", errors });
    const about = targetOf(view.private_metadata);
    if (!about) {
      log.warn({ user }, "a Resolve modal arrived without the alert it is about");
      await errors({
        [RESOLVE_MODAL.verdictBlock]:
          "This form does not say which alert it is for. Close it and press Resolve on the alert again.",
      });
      return;
    }
    const form = readResolveForm(view.state.values);
    if ("errors" in form) {
      await errors(form.errors);
      return;
    }
    if (!(await responders.allows(client, user))) {
      log.warn({ uuid: about.uuid, user }, "refused: not in SLACK_ALLOWED_RESPONDERS");
      await errors({ [RESOLVE_MODAL.verdictBlock]: notAResponder("resolve alerts") });
      return;
    }
    const at = new Date();
    let result: Awaited<ReturnType<typeof store.resolveAlert>>;
    try {
      result = await store.resolveAlert(about.uuid, { ...form, by: user, at });
    } catch (error) {
      log.error({ err: error, uuid: about.uuid }, "could not record a resolution");
      await errors({
        [RESOLVE_MODAL.verdictBlock]:
          "The resolution could not be saved (Redis unavailable?). Please try again.",
      });
      return;
    }
    // The modal closes; what follows is told in the channel or shown on the message.
    await ack();
    const who = { user, channel: about.channel };
    try {
      if (result.outcome === "missing") {
        await tellPrivately(
          client,
          who,
          `This alert (${escapeMrkdwn(about.uuid)}) is no longer stored, so it cannot be resolved.`,
        );
        return;
      }
      if (result.outcome === "already") {
        const as = result.verdict ? ` as ${verdictText(result.verdict)}` : "";
        await tellPrivately(
          client,
          who,
          `${result.by === user ? "You" : userMention(result.by)} resolved this alert${as}${result.at ? ` at ${slackDate(result.at)}` : ""}, before you did: your verdict was not recorded. Press Reopen on the message if it should change.`,
        );
        return;
      }
      log.info({ uuid: about.uuid, user, verdict: form.verdict }, "alert resolved");
      const stored = await store.get(about.uuid);
      if (stored) {
        verdicts.inc({ rule: stored.alert.rule, verdict: form.verdict });
        const waited = secondsSinceArrival(stored.receivedAt, at);
        if (waited !== null) timeToResolveSeconds.observe({ priority: stored.alert.priority }, waited);
      }
      const ref = await refreshAlertMessage(client, deps, about.uuid, about);
      const note = form.note ? `: ${escapeMrkdwn(truncate(form.note, NOTE_SHOWN_CHARS))}` : "";
      await deps.threadLog.record(client, ref, {
        user,
        what: `resolved it as ${verdictText(form.verdict)}${note}`,
        at,
      });
    } catch (error) {
      log.error({ err: error, uuid: about.uuid }, "resolved, but updating Slack failed");
      await tellPrivately(
        client,
        who,
        `Your verdict was recorded, but updating the alert's message in Slack failed; \`/falco ${escapeMrkdwn(about.uuid)}\` shows it.`,
      ).catch(() => {});
    }
  });
}

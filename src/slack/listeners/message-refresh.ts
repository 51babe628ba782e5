import type { WebClient } from "@slack/web-api";
import { mitigationThreadMessages } from "../../../blocks/alert-message.js";
import type { SlackRef } from "../../store/alert-store.js";
import { SAFE_POST_OPTIONS } from "../delivery.js";
import { loadForMessage, renderStored, viewOf } from "../render.js";
import type { ListenerDeps } from "./deps.js";

/**
 * Re-renders an alert's message from what the store holds now (chat.update), posting the mitigation
 * steps to its thread first when they no longer fit in it. `fallback` is the message the person
 * acted on, for an alert whose own record of its message is missing. Answers the message's ref.
 */
export async function refreshAlertMessage(
  client: WebClient,
  deps: Pick<ListenerDeps, "store" | "kb" | "visibility">,
  uuid: string,
  fallback: SlackRef | null,
): Promise<SlackRef | null> {
  const { store, kb } = deps;
  const loaded = await loadForMessage(store, uuid, client, deps.visibility);
  if (!loaded) return null;
  const { group, previous, visibility } = loaded;
  let { stored } = loaded;
  const ref = stored.slack ?? fallback;
  if (!ref) return null;
  let message = renderStored(stored, kb, group, previous, visibility);
  if (!message.mitigationFits && !stored.mitigationInThread) {
    for (const part of mitigationThreadMessages(viewOf(stored, kb, group)))
      await client.chat.postMessage({
        channel: ref.channel,
        thread_ts: ref.ts,
        text: part.text,
        blocks: part.blocks,
        ...SAFE_POST_OPTIONS,
      });
    await store.setMitigationInThread(uuid);
    stored = (await store.get(uuid)) ?? stored;
    message = renderStored(stored, kb, group, previous, visibility);
  }
  await client.chat.update({ channel: ref.channel, ts: ref.ts, text: message.text, blocks: message.blocks });
  return ref;
}

import type { AlertStore, StoredAlert } from "./alert-store.js";

/**
 * The alert a uuid names, or, for the uuid of a re-sent copy (same content, another uuid), the
 * alert it was counted as: every route and command that takes a uuid answers a copy's alike.
 */
export async function getFollowingCopy(
  store: Pick<AlertStore, "get" | "originalOf">,
  uuid: string,
): Promise<StoredAlert | null> {
  const stored = await store.get(uuid);
  if (stored) return stored;
  const original = await store.originalOf(uuid);
  return original ? store.get(original) : null;
}

import { describe, expect, it } from "vitest";
import { renderResolveModal } from "../../blocks/resolve-modal.js";
import type { FalcoAlert } from "../../src/falco/alert.js";
import { parseAlertBody } from "../../src/falco/body.js";
import type { LocalView } from "../../src/preview/local-slack.js";
import { modalHtml, viewValuesOf } from "../../src/preview/modal-html.js";

function alert(rule: string): FalcoAlert {
  const r = parseAlertBody(
    JSON.stringify({
      rule,
      priority: "Notice",
      output: "x",
      time: "2026-01-01T00:00:00Z",
      output_fields: {},
    }),
    "json",
  );
  if (!r.ok) throw new Error("bad alert");
  return r.alerts[0]!;
}

function localView(view: Record<string, unknown>, errors: Record<string, string> | null = null): LocalView {
  return {
    id: "V1",
    hash: "h",
    type: "modal",
    view,
    user: "U1",
    rootViewId: null,
    previousViewId: null,
    errors,
  };
}

describe("the preview page's modal", () => {
  it("shows the form with its ids, the app's errors, and escapes every text", () => {
    const modal = renderResolveModal(alert(`<img src=x onerror=alert(1)>`), {
      uuid: "u",
      channel: "C1",
      ts: "1.2",
    });
    const html = modalHtml(
      localView(modal as unknown as Record<string, unknown>, { falco_resolve_verdict: "<b>pick</b>" }),
    );
    expect(html).toContain('aria-label="Resolve alert"');
    expect(html).toContain(
      '<input type="radio" name="falco_resolve_verdict/falco_verdict" value="false_positive"> False positive <small>The rule matched something it should not have</small>',
    );
    expect(html).toContain('data-kind="plain_text_input" maxlength="1000" rows="4"></textarea>');
    expect(html).toContain('<div class="bk-error" role="alert">&lt;b&gt;pick&lt;/b&gt;</div>');
    expect(html).not.toContain("<img");
    expect(modalHtml(undefined)).toBe("");
  });

  it("turns the page's inputs into Slack's state.values, and refuses malformed ones", () => {
    expect(
      viewValuesOf([
        { block: "b1", action: "a1", kind: "radio_buttons", value: "duplicate" },
        { block: "b2", action: "a2", kind: "plain_text_input", value: "" },
        { block: "b3", action: "a3", kind: "checkboxes", value: ["x", "y"] },
      ]),
    ).toEqual({
      b1: { a1: { type: "radio_buttons", selected_option: { value: "duplicate" } } },
      b2: { a2: { type: "plain_text_input", value: null } },
      b3: { a3: { type: "checkboxes", selected_options: [{ value: "x" }, { value: "y" }] } },
    });
    expect(viewValuesOf({})).toBe("inputs must be a list of at most 50");
    expect(viewValuesOf([{ block: "b", action: "a", kind: "rich_text_input", value: "" }])).toBe(
      "unknown input kind rich_text_input",
    );
    expect(viewValuesOf([{ block: 1, action: "a", kind: "datepicker", value: "" }])).toBe(
      "each input needs its block and action ids",
    );
  });
});

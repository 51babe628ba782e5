import fc from "fast-check";
import { parse, stringify } from "lossless-json";
import { isInteger, isSafeNumber } from "lossless-json";
import { describe, expect, it } from "vitest";
import { JsonDepthError, jsonDepth, parseJsonLossless, stringifyLossless } from "../../src/falco/json.js";

/*
 * parseJsonLossless and stringifyLossless take a fast path through the engine's JSON and fall back
 * to lossless-json; whichever path runs, the result must be lossless-json's. Checked here against
 * lossless-json itself on generated documents full of long integers, lookalike strings and marks.
 */

const reference = (text: string) =>
  parse(text, null, (t: string) => (isSafeNumber(t) ? Number(t) : isInteger(t) ? BigInt(t) : Number(t)));

const longInteger = fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n });
const trickyString = fc.oneof(
  fc.string(),
  fc.constantFrom(
    "x:1234567890123456789,y",
    "\u0000lossless:123",
    "\\u0000lossless:1",
    "[12345678901234567890]",
    '"quoted" 99999999999999999',
    "__proto__",
  ),
);
const leaf = fc.oneof(
  longInteger,
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  trickyString,
);
const doc = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, leaf, tie("array"), tie("object")),
  array: fc.array(tie("value"), { maxLength: 5 }),
  object: fc.dictionary(fc.oneof(trickyString, fc.constant("evt.time")), tie("value"), { maxKeys: 6 }),
})).value;

describe("lossless JSON, fast path and fallback", () => {
  it("parses like lossless-json, whatever the document holds", () => {
    fc.assert(
      fc.property(doc, (value) => {
        const text = stringify(value) as string;
        expect(parseJsonLossless(text)).toEqual(reference(text));
      }),
      { numRuns: 500 },
    );
  });

  it("writes what lossless-json writes", () => {
    fc.assert(
      fc.property(doc, (value) => {
        expect(stringifyLossless(value)).toBe(stringify(value));
      }),
      { numRuns: 500 },
    );
  });

  it("refuses exactly the documents nested deeper than the limit, on either path", () => {
    fc.assert(
      fc.property(doc, fc.integer({ min: 1, max: 4 }), (value, limit) => {
        const text = stringify(value) as string;
        if (jsonDepth(text) > limit) expect(() => parseJsonLossless(text, limit)).toThrow(JsonDepthError);
        else expect(parseJsonLossless(text, limit)).toEqual(reference(text));
      }),
      { numRuns: 500 },
    );
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    expect(() => parseJsonLossless(deep, 32)).toThrow(JsonDepthError);
    expect(() => parseJsonLossless(`${deep.slice(0, -1)}`, 32)).toThrow(JsonDepthError); // not JSON: fallback path
  });

  it("writes what JSON.stringify writes for values with toJSON, and throws for cycles", () => {
    const at = new Date("2026-12-02T10:00:00.000Z");
    const value = { at, n: 12345678901234567890n, nested: [{ at }] };
    expect(stringifyLossless(value)).toBe(
      '{"at":"2026-12-02T10:00:00.000Z","n":12345678901234567890,"nested":[{"at":"2026-12-02T10:00:00.000Z"}]}',
    );
    const cyclic: Record<string, unknown> = { n: 1n };
    cyclic.self = cyclic;
    expect(() => stringifyLossless(cyclic)).toThrow();
  });

  it("keeps a 19-digit evt.time exact and a __proto__ key an own property", () => {
    const parsed = parseJsonLossless(
      '{"evt.time":1732266723112233445,"__proto__":{"x":12345678901234567890}}',
    ) as Record<string, unknown>;
    expect(parsed["evt.time"]).toBe(1732266723112233445n);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.keys(parsed)).toEqual(["evt.time", "__proto__"]);
  });

  it("reports bad JSON with lossless-json's message", () => {
    expect(() => parseJsonLossless('{"a":')).toThrow(/position 5/);
  });
});

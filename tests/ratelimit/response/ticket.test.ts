import { describe, expect, test } from "bun:test";
import { type Ticket, ticketSealer } from "../../../src/ratelimit/response/ticket.ts";

const secret = new TextEncoder().encode("a fleet secret of 32 bytes......");
const ticket: Ticket = {
  leaseId: "9f2c.17",
  entries: [
    { name: "tokens", key: "rl:{ABC}:tokens:0badf00d", params: { emissionIntervalUs: 600, burstToleranceUs: 59_999_400 }, rate: "postpaid", estimate: 0, lease: true, costArg: "tokens", costMax: 1_000_000 },
    { name: "per-ip", key: "rl:{198.51.100.7|%}:per-ip:12345678", params: { emissionIntervalUs: 60_000, burstToleranceUs: 0 }, rate: "request", estimate: 0, lease: false, costArg: "", costMax: 0 },
  ],
};

describe("ticketSealer()", () => {
  test("open(seal(t)) gives t back, and the text is base64url plus one dot", () => {
    const sealer = ticketSealer(secret);
    const text = sealer.seal(ticket);
    expect(text).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(sealer.open(text)).toEqual(ticket);
  });

  test("another fleet's secret, a changed payload or a changed MAC is refused as forged", () => {
    const text = ticketSealer(secret).seal(ticket);
    const other = ticketSealer(new TextEncoder().encode("another fleet secret, 32 bytes.."));
    expect(other.open(text)).toEqual({ refused: "forged" });
    const [payload, mac] = text.split(".");
    const flipped = payload.slice(0, 10) + (payload[10] === "A" ? "B" : "A") + payload.slice(11);
    expect(ticketSealer(secret).open(`${flipped}.${mac}`)).toEqual({ refused: "forged" });
    expect(ticketSealer(secret).open(`${payload}.${mac.slice(0, -1)}${mac.endsWith("A") ? "B" : "A"}`)).toEqual({ refused: "forged" });
  });

  test("text that is not a ticket is refused as malformed", () => {
    const sealer = ticketSealer(secret);
    for (const text of ["", "abc", "a.b.c", ".abc", "abc.!!", "x".repeat(5000)]) {
      expect(sealer.open(text)).toEqual({ refused: "malformed" });
    }
  });

  test("a secret shorter than 16 bytes is refused", () => {
    expect(() => ticketSealer(new Uint8Array(15))).toThrow(RangeError);
  });
});

describe("ticketSealer() with the host's HMAC", () => {
  test("node:crypto's HMAC and the core's seal the same ticket", async () => {
    const { createHmac } = await import("node:crypto");
    const host = (key: Uint8Array) => (message: Uint8Array) => new Uint8Array(createHmac("sha256", key).update(message).digest());
    expect(ticketSealer(secret, host).seal(ticket)).toBe(ticketSealer(secret).seal(ticket));
  });
});

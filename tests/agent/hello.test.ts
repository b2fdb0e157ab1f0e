import { describe, expect, test } from "bun:test";
import { negotiateHello } from "../../src/agent/hello.ts";
import type { HaproxyHello } from "../../src/spop/frame.ts";
import { statusOf } from "../helpers/spop-status.ts";

const offer = (o: Partial<HaproxyHello> = {}): HaproxyHello => ({
  supportedVersions: ["2.0"],
  maxFrameSize: 16380,
  capabilities: ["pipelining"],
  ...o,
});

describe("negotiateHello()", () => {
  test("answers version 2.0 with pipelining when HAProxy offers it", () => {
    expect(negotiateHello(offer(), 16380)).toEqual({ version: "2.0", maxFrameSize: 16380, capabilities: ["pipelining"] });
  });

  test("announces pipelining but never async from a 2.x offer of pipelining,async", () => {
    const answer = negotiateHello(offer({ capabilities: ["pipelining", "async"] }), 16380);
    expect(answer.capabilities).toEqual(["pipelining"]);
  });

  test("announces no capability when HAProxy offers none", () => {
    expect(negotiateHello(offer({ capabilities: [] }), 16380).capabilities).toEqual([]);
  });

  test("tolerates spaces and unsplit comma lists", () => {
    const answer = negotiateHello(offer({ supportedVersions: [" 1.0 , 2.0 "], capabilities: [" async , pipelining "] }), 1000);
    expect(answer.capabilities).toEqual(["pipelining"]);
  });

  test("answers the smaller max-frame-size, whichever side has it", () => {
    expect(negotiateHello(offer({ maxFrameSize: 16380 }), 4096).maxFrameSize).toBe(4096);
    expect(negotiateHello(offer({ maxFrameSize: 1024 }), 16380).maxFrameSize).toBe(1024);
  });

  test("accepts any 2.x version", () => {
    expect(negotiateHello(offer({ supportedVersions: ["2.1"] }), 16380).version).toBe("2.0");
  });

  test("rejects an offer without a 2.x version with status 8", () => {
    expect(statusOf(() => negotiateHello(offer({ supportedVersions: ["1.0"] }), 16380))).toBe(8);
    expect(statusOf(() => negotiateHello(offer({ supportedVersions: ["20"] }), 16380))).toBe(8);
    expect(statusOf(() => negotiateHello(offer({ supportedVersions: [] }), 16380))).toBe(8);
  });

  test("rejects a max-frame-size below 256 with status 9", () => {
    expect(statusOf(() => negotiateHello(offer({ maxFrameSize: 255 }), 16380))).toBe(9);
    expect(negotiateHello(offer({ maxFrameSize: 256 }), 16380).maxFrameSize).toBe(256);
  });
});

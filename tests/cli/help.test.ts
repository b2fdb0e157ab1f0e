import { describe, expect, test } from "bun:test";
import { COMMANDS } from "../../src/cli/args.ts";
import { helpText } from "../../src/cli/help.ts";
import { flagText } from "../../src/config/describe.ts";
import { FIELDS } from "../../src/config/fields.ts";

describe("helpText()", () => {
  const text = helpText();

  test("explains what the agent does, the commands and the precedence", () => {
    expect(text).toContain("HAProxy SPOE agent");
    for (const command of COMMANDS) expect(text).toContain(command.name);
    expect(text).toContain("flags > environment variables > config file > defaults");
  });

  test("lists every flag with its env var and default", () => {
    for (const field of FIELDS) {
      if (field.flag !== undefined) expect(text).toContain(`  ${flagText(field.flag, field.kind)}\n`);
      for (const env of field.env ?? []) expect(text).toContain(env);
    }
    expect(text).toContain("env SPOE_ADDR · file listen · default 127.0.0.1:12345");
    expect(text).toContain("env SPOA_RATE_BURST · file defaultLimit.burstUs · default 200000");
  });

  test("shows examples for bun, deno and the binary", () => {
    expect(text).toContain("bun run src/cli/main.ts");
    expect(text).toContain("deno run");
    expect(text).toContain("./spoa-gcra ");
  });

  test("never contains a secret value, whatever the environment holds", () => {
    const before = process.env.VALKEY_PASSWORD;
    process.env.VALKEY_PASSWORD = "hunter2-in-env";
    try {
      expect(helpText()).not.toContain("hunter2-in-env");
      expect(helpText("check-config")).not.toContain("hunter2-in-env");
    } finally {
      if (before === undefined) delete process.env.VALKEY_PASSWORD;
      else process.env.VALKEY_PASSWORD = before;
    }
  });

  test("check-config has its own usage", () => {
    expect(helpText("check-config")).toContain("Usage: spoa-gcra check-config");
  });
});

import { describe, expect, test } from "bun:test";
import { isSecretName, REDACTED, redact, redactUrlPasswords } from "../../src/observe/redact.ts";

describe("redact", () => {
  test("isSecretName() matches credential-like names and leaves rate-limit keys visible", () => {
    for (const name of ["password", "VALKEY_PASSWORD", "secret", "clientSecret", "token", "apiKey", "api_key", "authorization", "accessKey"]) {
      expect(isSecretName(name)).toBe(true);
    }
    for (const name of ["key", "limit", "passwordFile", "VALKEY_PASSWORD_FILE", "username", "host"]) {
      expect(isSecretName(name)).toBe(false);
    }
  });

  test("redactUrlPasswords() masks the password of scheme://user:pass@host and keeps the user", () => {
    expect(redactUrlPasswords("connect redis://agent:s3cr3t@valkey:6379/0 failed")).toBe(`connect redis://agent:${REDACTED}@valkey:6379/0 failed`);
    expect(redactUrlPasswords("rediss://:only-pass@h")).toBe(`rediss://:${REDACTED}@h`);
    expect(redactUrlPasswords("redis://valkey:6379")).toBe("redis://valkey:6379");
    expect(redactUrlPasswords("user@example.com")).toBe("user@example.com");
  });

  test("redact() masks nested secret fields and URL passwords in values and errors", () => {
    const out = redact({
      store: { url: "redis://u:p@h:1", password: "hunter2", username: "u" },
      list: [{ token: "t" }],
      error: new Error("AUTH failed for redis://u:p@h:1"),
      empty: { password: "" },
    }) as Record<string, any>;
    expect(out.store).toEqual({ url: `redis://u:${REDACTED}@h:1`, password: REDACTED, username: "u" });
    expect(out.list).toEqual([{ token: REDACTED }]);
    expect(out.error).toEqual({ name: "Error", message: `AUTH failed for redis://u:${REDACTED}@h:1` });
    expect(out.empty).toEqual({ password: "" });
  });
});

import { describe, expect, test } from "bun:test";
import { redactedConfig } from "../../src/config/schema.ts";
import { load } from "./fixture.ts";

describe("redactedConfig()", () => {
  test("hides the password, the private key and URL credentials", () => {
    const config = load({
      env: { VALKEY_NODES: "redis://u:urlsecret@a:6379", VALKEY_PASSWORD: "envsecret", VALKEY_TLS_KEY_FILE: "/k.pem", VALKEY_TLS_CERT_FILE: "/c.pem" },
      files: { "/k.pem": "-----BEGIN PRIVATE KEY-----keysecret", "/c.pem": "-----BEGIN CERTIFICATE-----" },
    });
    expect(config.store.valkey?.password).toBe("envsecret");
    const text = JSON.stringify(redactedConfig(config));
    for (const secret of ["urlsecret", "envsecret", "keysecret"]) expect(text).not.toContain(secret);
    expect(text).toContain("<redacted>");
    expect(text).toContain(`"failurePolicy":"local"`);
  });

  test("leaves a config without Valkey as it is", () => {
    const config = load();
    expect(redactedConfig(config)).toEqual(config);
  });
});

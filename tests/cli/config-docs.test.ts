import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { renderConfigReference } from "../../src/config/reference.ts";
import { flagText } from "../../src/config/describe.ts";
import { FIELDS } from "../../src/config/fields.ts";

test("docs/configuration.md is what scripts/gen-config-docs.ts generates (run it with --write after changing a field)", () => {
  const onDisk = readFileSync(join(import.meta.dir, "..", "..", "docs", "configuration.md"), "utf8");
  expect(onDisk).toBe(renderConfigReference());
});

test("the reference documents every field's flag and env var", () => {
  const text = renderConfigReference();
  for (const field of FIELDS) {
    if (field.flag !== undefined) expect(text).toContain(`\`${flagText(field.flag, field.kind).replaceAll("|", "\\|")}\``);
    for (const env of field.env ?? []) expect(text).toContain(`\`${env}\``);
  }
});

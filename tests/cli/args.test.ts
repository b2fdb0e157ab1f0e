import { describe, expect, test } from "bun:test";
import { knownFlags, parseCliArgs, UsageError } from "../../src/cli/args.ts";
import { FIELDS } from "../../src/config/fields.ts";

function usageMessage(argv: readonly string[]): string {
  try {
    parseCliArgs(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error("expected a UsageError");
}

describe("parseCliArgs()", () => {
  test("defaults to serve with no arguments", () => {
    expect(parseCliArgs([])).toEqual({ command: "serve", flags: {}, positionals: [] });
  });

  test("reads the command and kebab-case flags, in both --flag value and --flag=value forms", () => {
    const args = parseCliArgs(["check-config", "--config", "p.yaml", "--rate-burst=5000", "--validate"]);
    expect(args).toEqual({ command: "check-config", flags: { config: "p.yaml", "rate-burst": "5000", validate: true }, positionals: [] });
  });

  test("rejects an unknown flag in strict mode, naming it and suggesting the close one", () => {
    expect(usageMessage(["--lisen", "x"])).toBe("unknown flag --lisen (did you mean --listen?)");
  });

  test("has no --valkey-password flag: secrets never come from the command line", () => {
    expect(usageMessage(["--valkey-password", "x"])).toContain("unknown flag --valkey-password");
  });

  test("rejects a flag without its value, naming the flag", () => {
    expect(usageMessage(["--listen"])).toContain("--listen");
  });

  test("rejects a value on a boolean flag", () => {
    expect(usageMessage(["--validate=yes"])).toBe("flag --validate takes no value");
  });

  test("rejects an unknown command with a suggestion", () => {
    expect(usageMessage(["check-conf"])).toContain("did you mean check-config?");
  });

  test("rejects a stray argument", () => {
    expect(usageMessage(["serve", "extra"])).toContain(`unexpected argument "extra"`);
  });

  test("--help and -h ask for help, about the command when one is given", () => {
    expect(parseCliArgs(["--help"]).command).toBe("help");
    expect(parseCliArgs(["check-config", "-h"])).toMatchObject({ command: "help", positionals: ["check-config"] });
    expect(parseCliArgs(["help", "serve"])).toMatchObject({ command: "help", positionals: ["serve"] });
  });

  test("--version asks for the version", () => {
    expect(parseCliArgs(["--version"]).command).toBe("version");
  });

  test("accepts every flag of the config field table", () => {
    for (const field of FIELDS) {
      if (field.flag !== undefined) expect(knownFlags()).toContain(`--${field.flag}`);
    }
  });
});

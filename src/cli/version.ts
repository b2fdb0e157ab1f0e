/** The agent's version, kept equal to package.json and deno.json by tests/cli/version.test.ts. */
export const VERSION = "0.1.0";

/**
 * Reads HAProxy's configuration syntax (haproxy.cfg and an SPOE config): sections, and lines
 * split into words the way HAProxy splits them (quotes, backslash escapes, `#` comments,
 * `"${VAR}"` expansion inside double quotes). Enough to check a config against the agent's
 * policy; it never decides whether HAProxy itself would load the file (`haproxy -c` does that).
 * @module
 */

/** One configuration line: its 1-based number and its words. */
export interface CfgLine {
  readonly line: number;
  readonly words: readonly string[];
}

/** A section (`frontend fe_web`, `spoe-agent ratelimit-agent`) and its lines. */
export interface CfgSection {
  readonly kind: string;
  readonly name: string;
  readonly line: number;
  /** For an SPOE config: the `[scope]` the section is in ("" before any scope line). */
  readonly scope: string;
  readonly lines: readonly CfgLine[];
}

/** Words of one line; `expand` resolves `${NAME}` / `$NAME` inside double quotes. */
export function splitWords(text: string, expand: (name: string) => string = () => ""): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === undefined && (c === " " || c === "\t")) {
      if (word !== undefined) words.push(word);
      word = undefined;
      continue;
    }
    if (quote === undefined && c === "#") break;
    if (c === "\\" && quote !== "'" && i + 1 < text.length) {
      word = (word ?? "") + text[++i];
      continue;
    }
    if ((c === '"' || c === "'") && (quote === undefined || quote === c)) {
      quote = quote === undefined ? c : undefined;
      word ??= "";
      continue;
    }
    if (c === "$" && quote === '"') {
      const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(text.slice(i));
      if (m !== null) {
        word = (word ?? "") + expand(m[1] ?? m[2]);
        i += m[0].length - 1;
        continue;
      }
    }
    word = (word ?? "") + c;
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Section keywords of haproxy.cfg (HAProxy 2.6 … 3.4) and of an SPOE config. */
const SECTION_KEYWORDS = new Set([
  "global", "defaults", "frontend", "backend", "listen", "peers", "resolvers", "userlist", "program", "http-errors", "ring",
  "mailers", "cache", "crt-store", "traces", "log-forward", "fcgi-app", "dynamic-update", "acme",
  "spoe-agent", "spoe-message", "spoe-group",
]);

/**
 * The sections of a configuration text. Lines before the first section are dropped, as HAProxy
 * refuses them anyway. `env` expands `"${VAR}"`; `setenv`/`presetenv` lines of `global` join it.
 */
export function parseSections(text: string, env: Readonly<Record<string, string | undefined>> = {}): CfgSection[] {
  const vars: Record<string, string | undefined> = { ...env };
  const sections: { kind: string; name: string; line: number; scope: string; lines: CfgLine[] }[] = [];
  let scope = "";
  text.split("\n").forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    const scopeLine = /^\[([^\]]*)\]\s*(#.*)?$/.exec(trimmed);
    if (scopeLine !== null) {
      scope = scopeLine[1].trim();
      return;
    }
    const words = splitWords(raw, (name) => vars[name] ?? "");
    if (words.length === 0) return;
    if (SECTION_KEYWORDS.has(words[0])) {
      sections.push({ kind: words[0], name: words[1] ?? "", line, scope, lines: [] });
      return;
    }
    const current = sections.at(-1);
    if (current === undefined) return;
    current.lines.push({ line, words });
    if (current.kind === "global" && (words[0] === "setenv" || (words[0] === "presetenv" && vars[words[1]] === undefined))) {
      vars[words[1]] = words.slice(2).join(" ");
    }
  });
  return sections;
}

/** The first line of `section` whose words start with `prefix` (`["timeout", "processing"]`). */
export function findLine(section: CfgSection | undefined, ...prefix: string[]): CfgLine | undefined {
  return section?.lines.find((l) => prefix.every((word, i) => l.words[i] === word));
}

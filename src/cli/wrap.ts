/**
 * Word wrapping for the help texts (backticks dropped: a terminal shows no code spans).
 * @module
 */

/** `text` as lines of at most `width` columns, each indented by `indent` spaces. */
export function wrap(text: string, indent: number, width = 100): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.replace(/`/g, "").split(/\s+/)) {
    if (word === "") continue;
    if (line !== "" && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines.map((l) => " ".repeat(indent) + l);
}

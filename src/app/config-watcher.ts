/**
 * Watches the config file for changes, including a Kubernetes ConfigMap update, which swaps the
 * `..data` symlink in the file's directory without ever writing to the file path itself.
 * @module
 */
import { type FSWatcher, realpathSync, statSync, watch } from "node:fs";
import { dirname } from "node:path";

/** What identifies one version of the file: its resolved target and that target's inode, size and mtime. */
function signature(file: string): string | undefined {
  try {
    const target = realpathSync(file);
    const stat = statSync(target);
    return `${target}|${stat.dev}|${stat.ino}|${stat.size}|${stat.mtimeMs}`;
  } catch {
    // Missing in the middle of a swap: wait for the next event or poll.
    return undefined;
  }
}

/** Options of a ConfigWatcher. */
export interface ConfigWatcherOptions {
  readonly file: string;
  /** Called once per settled change (after the debounce), only while the file exists. */
  readonly onChange: () => void;
  /** Quiet time after the last event before onChange runs; default 250 ms. */
  readonly debounceMs?: number;
  /** Stat poll period, the fallback when fs events are missed (network filesystems); default 2000 ms. */
  readonly pollMs?: number;
  /** A watch that could not be set up or failed, or onChange threw; the poll keeps working. Default: ignored. */
  readonly onError?: (error: unknown) => void;
}

/** Calls `onChange` when the config file (or the symlink chain leading to it) changes. */
export class ConfigWatcher {
  readonly #file: string;
  readonly #onChange: () => void;
  readonly #debounceMs: number;
  readonly #pollMs: number;
  readonly #onError: (error: unknown) => void;
  #watchers: FSWatcher[] = [];
  #watchedTarget: string | undefined;
  #poll: ReturnType<typeof setInterval> | undefined;
  #debounce: ReturnType<typeof setTimeout> | undefined;
  #last: string | undefined;
  #closed = false;

  constructor(options: ConfigWatcherOptions) {
    this.#file = options.file;
    this.#onChange = options.onChange;
    this.#debounceMs = options.debounceMs ?? 250;
    this.#pollMs = options.pollMs ?? 2000;
    this.#onError = options.onError ?? (() => {});
  }

  /** Starts watching; the file's state now is the baseline, so start() itself fires nothing. */
  start(): void {
    if (this.#poll !== undefined || this.#closed) return;
    this.#last = signature(this.#file);
    this.#arm();
    // The poll only notices; the debounce decides, so a write caught mid-burst fires once.
    this.#poll = setInterval(() => {
      if (signature(this.#file) !== this.#last) this.#schedule();
    }, this.#pollMs);
    this.#poll.unref?.();
  }

  /** Stops every watch and timer. */
  close(): void {
    this.#closed = true;
    this.#disarm();
    if (this.#poll !== undefined) clearInterval(this.#poll);
    if (this.#debounce !== undefined) clearTimeout(this.#debounce);
    this.#poll = this.#debounce = undefined;
  }

  /** Watches the directory (symlink swaps, atomic renames) and the file's current target (in-place writes). */
  #arm(): void {
    this.#disarm();
    let target: string | undefined;
    try {
      target = realpathSync(this.#file);
    } catch {
      target = undefined;
    }
    this.#watchedTarget = target;
    for (const path of new Set([dirname(this.#file), ...(target === undefined ? [] : [target])])) {
      try {
        const watcher = watch(path, { persistent: false }, () => this.#schedule());
        watcher.on("error", (error) => this.#onError(error));
        this.#watchers.push(watcher);
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  #disarm(): void {
    for (const watcher of this.#watchers) watcher.close();
    this.#watchers = [];
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#debounce !== undefined) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      this.#check();
    }, this.#debounceMs);
  }

  #check(): void {
    if (this.#closed) return;
    const now = signature(this.#file);
    if (now === undefined || now === this.#last) return;
    this.#last = now;
    // The target moved (symlink swap, rename over): the old inode's watch is dead, watch the new one.
    if (!now.startsWith(`${this.#watchedTarget}|`)) this.#arm();
    try {
      this.#onChange();
    } catch (error) {
      this.#onError(error);
    }
  }
}

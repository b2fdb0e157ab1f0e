/**
 * Compact storage for the memory store's key strings: byte pages instead of a JS string per key
 * (a 32-char JS string costs ~60–70 bytes with its headers; here it costs 40).
 *
 * - Record layout, 4-byte aligned: [int32 owner][int32 length | wide flag][code units…]. Code
 *   units take 1 byte when all are ≤ 0xFF (the usual ASCII key), else 2 (little-endian).
 * - Records live in 256 KiB pages and never span two; an offset is `page << 18 | position`.
 *   Growing adds a page and copies nothing, so the peak memory is what is in use.
 * - A freed record keeps its length but gets owner −1. Log-structured cleaning: each time a new
 *   page is opened while at least a fifth of the bytes are garbage, the page with the most
 *   garbage has its live records appended to the open page and becomes free. One page per
 *   opening bounds the pause (≤ 256 KiB of records moved). The owner learns each move.
 * @module
 */

const PAGE_SHIFT = 18;
const PAGE_BYTES = 1 << PAGE_SHIFT;
/** Size of one key page. */
export const KEY_PAGE_BYTES = PAGE_BYTES;
const POSITION_MASK = PAGE_BYTES - 1;
const HEADER_BYTES = 8;
const WIDE = 0x8000_0000 | 0;
const FREE = -1;
/** Longest key in UTF-16 code units (its record, 2 bytes a unit, must fit in one page); far above a SPOE frame. */
export const MAX_KEY_LENGTH = (PAGE_BYTES - HEADER_BYTES) / 2;

/** Told the new offset of each live record a compaction moved. */
export type OnMove = (owner: number, offset: number) => void;

/**
 * Clean when garbage is at least 1/5 of the bytes: key pages stay ≤ 1.25 × the live keys, and
 * the greedy victim is ≥ 20% garbage, so at most 4 bytes move per byte reclaimed.
 */
const CLEAN_RATIO = 5;
/** Emptied pages kept for reuse; the rest are dropped so their memory goes back. */
const SPARE_PAGES = 2;

interface Page {
  readonly bytes: Uint8Array;
  readonly words: Int32Array;
  used: number;
  garbage: number;
}

function newPage(): Page {
  const bytes = new Uint8Array(PAGE_BYTES);
  return { bytes, words: new Int32Array(bytes.buffer), used: 0, garbage: 0 };
}

/** The paged byte store holding every key of one table. */
export class KeyArena {
  /** Page slots; an offset names its slot, so an emptied slot stays (undefined) until reused. */
  #pages: (Page | undefined)[] = [];
  /** Empty slot numbers, reused before the array grows. */
  #freeSlots: number[] = [];
  #spares: Page[] = [];
  #open = -1;
  #used = 0;
  #garbage = 0;
  readonly #onMove: OnMove;

  constructor(options: { readonly onMove: OnMove }) {
    this.#onMove = options.onMove;
  }

  /** Bytes holding records, live or freed. */
  get usedBytes(): number {
    return this.#used;
  }

  /** Bytes of freed records not yet reclaimed. */
  get garbageBytes(): number {
    return this.#garbage;
  }

  /** Pages holding records (256 KiB each). */
  get pageCount(): number {
    return this.#pages.length - this.#freeSlots.length;
  }

  /**
   * Stores `key` for `owner`; returns the record's offset. May move other records first (onMove).
   * @throws {RangeError} when the key is longer than MAX_KEY_LENGTH code units.
   */
  append(key: string, owner: number): number {
    const length = key.length;
    if (length > MAX_KEY_LENGTH) throw new RangeError(`Key of ${length} code units exceeds the memory store's limit of ${MAX_KEY_LENGTH}`);
    let wide = false;
    for (let i = 0; i < length; i++) {
      if (key.charCodeAt(i) > 0xff) {
        wide = true;
        break;
      }
    }
    const size = HEADER_BYTES + alignUp(wide ? length * 2 : length);
    if (this.#open < 0 || this.#pages[this.#open]!.used + size > PAGE_BYTES) {
      this.#openPage();
      if (this.#garbage * CLEAN_RATIO >= this.#used) this.#clean();
      if (this.#pages[this.#open]!.used + size > PAGE_BYTES) this.#openPage();
    }
    const slot = this.#open;
    const page = this.#pages[slot]!;
    const position = page.used;
    const base = position + HEADER_BYTES;
    const bytes = page.bytes;
    page.words[position >> 2] = owner;
    page.words[(position >> 2) + 1] = wide ? length | WIDE : length;
    if (wide) {
      for (let i = 0; i < length; i++) {
        const c = key.charCodeAt(i);
        bytes[base + 2 * i] = c & 0xff;
        bytes[base + 2 * i + 1] = c >>> 8;
      }
    } else {
      for (let i = 0; i < length; i++) bytes[base + i] = key.charCodeAt(i);
    }
    page.used += size;
    this.#used += size;
    return (slot << PAGE_SHIFT) | position;
  }

  /** True when the record at `offset` holds exactly `key`. */
  equals(offset: number, key: string): boolean {
    const page = this.#pages[offset >>> PAGE_SHIFT]!;
    const position = offset & POSITION_MASK;
    const meta = page.words[(position >> 2) + 1];
    const length = key.length;
    if ((meta & ~WIDE) !== length) return false;
    const bytes = page.bytes;
    const base = position + HEADER_BYTES;
    if (meta < 0) {
      for (let i = 0; i < length; i++) {
        if ((bytes[base + 2 * i] | (bytes[base + 2 * i + 1] << 8)) !== key.charCodeAt(i)) return false;
      }
      return true;
    }
    for (let i = 0; i < length; i++) {
      if (bytes[base + i] !== key.charCodeAt(i)) return false;
    }
    return true;
  }

  /** The key stored at `offset` (for tests and debugging; the hot path never decodes). */
  keyAt(offset: number): string {
    const page = this.#pages[offset >>> PAGE_SHIFT]!;
    const position = offset & POSITION_MASK;
    const meta = page.words[(position >> 2) + 1];
    const base = position + HEADER_BYTES;
    const units: number[] = [];
    for (let i = 0; i < (meta & ~WIDE); i++) {
      units.push(meta < 0 ? page.bytes[base + 2 * i] | (page.bytes[base + 2 * i + 1] << 8) : page.bytes[base + i]);
    }
    return String.fromCharCode(...units);
  }

  /** Records that the record at `offset` now belongs to `owner` (the table moved an entry). */
  setOwner(offset: number, owner: number): void {
    this.#pages[offset >>> PAGE_SHIFT]!.words[(offset & POSITION_MASK) >> 2] = owner;
  }

  /** Marks the record at `offset` garbage. */
  free(offset: number): void {
    const page = this.#pages[offset >>> PAGE_SHIFT]!;
    const position = offset & POSITION_MASK;
    page.words[position >> 2] = FREE;
    const size = sizeAt(page, position);
    page.garbage += size;
    this.#garbage += size;
  }

  /** Drops every record and page. */
  clear(): void {
    this.#pages = [];
    this.#freeSlots = [];
    this.#spares = [];
    this.#open = -1;
    this.#used = 0;
    this.#garbage = 0;
  }

  #openPage(): void {
    const page = this.#spares.pop() ?? newPage();
    page.used = 0;
    page.garbage = 0;
    const slot = this.#freeSlots.pop() ?? this.#pages.length;
    this.#pages[slot] = page;
    this.#open = slot;
  }

  /** Moves the live records of the page with the most garbage to the open page; frees it. */
  #clean(): void {
    let victim = -1;
    let most = 0;
    for (let slot = 0; slot < this.#pages.length; slot++) {
      const page = this.#pages[slot];
      if (page !== undefined && slot !== this.#open && page.garbage > most) {
        most = page.garbage;
        victim = slot;
      }
    }
    if (victim < 0) return;
    const source = this.#pages[victim]!;
    for (let readAt = 0; readAt < source.used; ) {
      const size = sizeAt(source, readAt);
      const owner = source.words[readAt >> 2];
      if (owner !== FREE) {
        if (this.#pages[this.#open]!.used + size > PAGE_BYTES) this.#openPage();
        const target = this.#pages[this.#open]!;
        target.bytes.set(source.bytes.subarray(readAt, readAt + size), target.used);
        this.#onMove(owner, (this.#open << PAGE_SHIFT) | target.used);
        target.used += size;
      }
      readAt += size;
    }
    // The live bytes now count on the open pages; only the victim's garbage leaves `used`.
    this.#used -= source.garbage;
    this.#garbage -= source.garbage;
    this.#pages[victim] = undefined;
    this.#freeSlots.push(victim);
    if (this.#spares.length < SPARE_PAGES) this.#spares.push(source);
  }
}

function sizeAt(page: Page, position: number): number {
  const meta = page.words[(position >> 2) + 1];
  const length = meta & ~WIDE;
  return HEADER_BYTES + alignUp(meta < 0 ? length * 2 : length);
}

function alignUp(n: number): number {
  return (n + 3) & ~3;
}

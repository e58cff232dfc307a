/**
 * A per-isolate cache of credentials looked up in D1 (API keys, publishable keys). An entry younger than
 * `freshMs` is used as is; an older one, up to `maxMs`, is still used but re-read in the background
 * (one re-read per key at a time, kept alive by the request's waitUntil), so a change made in another
 * isolate (a revocation) lands here within about `freshMs` plus one D1 read, and no request waits for D1
 * for a key this isolate knows. Past `maxMs`, or when `usable` says no, the caller waits for the read.
 */
export class RefreshingCache<T> {
  private readonly entries = new Map<string, { value: T; at: number }>();
  private readonly refreshing = new Set<string>();

  constructor(
    private readonly freshMs: number,
    private readonly maxMs: number,
  ) {}

  async get(
    key: string,
    now: number,
    load: () => Promise<T>,
    waitUntil: (p: Promise<unknown>) => void,
    usable: (value: T) => boolean = () => true,
  ): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.maxMs && usable(hit.value)) {
      if (now - hit.at >= this.freshMs && !this.refreshing.has(key)) {
        this.refreshing.add(key);
        const refresh = this.read(key, now, load)
          .catch(() => undefined) // a failed re-read keeps the entry; a later request tries again
          .finally(() => this.refreshing.delete(key));
        waitUntil(refresh);
      }
      return hit.value;
    }
    return this.read(key, now, load);
  }

  clear(): void {
    this.entries.clear();
  }

  private async read(key: string, now: number, load: () => Promise<T>): Promise<T> {
    const value = await load();
    this.entries.set(key, { value, at: now });
    return value;
  }
}

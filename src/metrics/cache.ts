/**
 * Cache hit ratios inferred per layer from the lineage: the guest page cache served the
 * application read bytes that caused no synchronous guest read; the host page cache served the
 * guest read bytes (of the images) that caused no synchronous host read. Readahead hits count as
 * hits (the bytes were in the cache when the application asked).
 */

export interface CacheRatios {
  /** Bytes asked of the layer (reads only). */
  read_bytes: number;
  /** Of those, bytes that went to the layer below. */
  miss_bytes: number;
  /** 1 - miss_bytes / read_bytes; null with no read bytes. */
  hit_ratio: number | null;
  /** Read I/Os with no byte going below / read I/Os. */
  hit_ratio_by_count: number | null;
  reads: number;
}

export function cacheRatios(readBytes: number, missBytes: number, reads: number, hits: number): CacheRatios {
  return {
    read_bytes: readBytes,
    miss_bytes: missBytes,
    hit_ratio: readBytes > 0 ? Math.max(0, 1 - missBytes / readBytes) : null,
    hit_ratio_by_count: reads > 0 ? hits / reads : null,
    reads,
  };
}

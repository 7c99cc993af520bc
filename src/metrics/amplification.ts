/**
 * Amplification: bytes moved at a lower layer per byte the application asked for, per op. Two
 * views: raw (all the layer's bytes of that op / app bytes of that op) and attributed (only the
 * lower bytes attributed to application I/Os of that op / app bytes of that op).
 */

export interface Amplification {
  /** Layer bytes / application bytes; null when the application moved no bytes of that op. */
  read: number | null;
  write: number | null;
  total: number | null;
  /** Attributed layer bytes / application bytes. */
  attributed_read: number | null;
  attributed_write: number | null;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

export function amplification(
  layer: { readBytes: number; writeBytes: number },
  attributed: { readBytes: number; writeBytes: number },
  app: { readBytes: number; writeBytes: number },
): Amplification {
  return {
    read: ratio(layer.readBytes, app.readBytes),
    write: ratio(layer.writeBytes, app.writeBytes),
    total: ratio(layer.readBytes + layer.writeBytes, app.readBytes + app.writeBytes),
    attributed_read: ratio(attributed.readBytes, app.readBytes),
    attributed_write: ratio(attributed.writeBytes, app.writeBytes),
  };
}

/**
 * A virtual disk as a chain of image files: the opened image (depth 0), its backing file (depth 1),
 * and so on (QEMU docs/interop/qcow2.txt, "backing file"). Raw images end a chain. Backing names
 * are resolved relative to the directory of the image that names them, as qemu does. Loops (the
 * same file twice) and chains deeper than a limit are errors.
 */
import { statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { FileBlockSource, type BlockSource } from '../io/block-source.js';
import { InputError } from '../util/errors.js';
import { isQcow2Magic, readQcow2Header, type Qcow2Header } from './qcow2-header.js';
import { Qcow2Tables } from './qcow2-tables.js';

import type { ImageFormat } from '../capture/manifest.js';

export interface ImageLayer {
  /** The file name as given by the user (depth 0) or as stored in the image above (resolved path). */
  readonly name: string;
  /** Path the file was opened from. */
  readonly path: string;
  readonly format: ImageFormat;
  /** The image file itself, read-only. */
  readonly file: BlockSource;
  /** Guest-visible size in bytes (raw: the file size). */
  readonly size: number;
  readonly header: Qcow2Header | null;
  readonly tables: Qcow2Tables | null;
}

export interface OpenChainOptions {
  /** Format of the top image; 'auto' (default) detects qcow2 by its magic, anything else is raw. */
  format?: 'auto' | ImageFormat;
  /** Longest chain accepted (default 64 images). */
  maxDepth?: number;
  /**
   * Where to find a backing file: gets the stored name and the path of the image naming it,
   * returns a path. Default: relative names are relative to that image's directory.
   */
  resolveBacking?: (storedName: string, fromPath: string) => string;
  /** Name of the top image in messages and in image_map's file column (default: its path). */
  displayName?: string;
}

export const DEFAULT_MAX_CHAIN_DEPTH = 64;

function defaultResolve(stored: string, from: string): string {
  return isAbsolute(stored) ? stored : join(dirname(from), stored);
}

/** Detect the format of an opened file from its first bytes. */
export function detectImageFormat(file: BlockSource): ImageFormat {
  if (file.size < 4) return 'raw';
  return isQcow2Magic(file.read(0, 4, 'image magic')) ? 'qcow2' : 'raw';
}

function openLayer(path: string, name: string, format: 'auto' | ImageFormat): ImageLayer {
  const file = new FileBlockSource(path, name);
  try {
    const fmt = format === 'auto' ? detectImageFormat(file) : format;
    if (fmt === 'raw') return { name, path, format: 'raw', file, size: file.size, header: null, tables: null };
    const header = readQcow2Header(file);
    const tables = new Qcow2Tables(file, header);
    return { name, path, format: 'qcow2', file, size: header.size, header, tables };
  } catch (e) {
    file.close();
    throw e;
  }
}

/** The opened chain of images of one virtual disk. close() closes every file. */
export class ImageChain {
  private constructor(readonly layers: readonly ImageLayer[]) {}

  /** The top image. */
  get top(): ImageLayer {
    return this.layers[0]!;
  }
  /** Guest-visible size of the disk in bytes. */
  get size(): number {
    return this.layers[0]!.size;
  }

  static open(path: string, opts: OpenChainOptions = {}): ImageChain {
    const maxDepth = opts.maxDepth ?? DEFAULT_MAX_CHAIN_DEPTH;
    const resolve = opts.resolveBacking ?? defaultResolve;
    const layers: ImageLayer[] = [];
    const seen = new Map<string, string>();
    try {
      let layer = openLayer(path, opts.displayName ?? path, opts.format ?? 'auto');
      for (;;) {
        layers.push(layer);
        const id = fileIdentity(layer.path);
        const prev = seen.get(id);
        if (prev !== undefined) {
          throw new InputError(
            layers[layers.length - 2]!.name,
            `backing chain loops: "${layer.name}" is the same file as "${prev}" earlier in the chain`,
            { offset: 8, what: 'qcow2 header backing_file_offset' },
          );
        }
        seen.set(id, layer.name);
        const h = layer.header;
        if (!h || h.backingFile === null) break;
        if (layers.length >= maxDepth) {
          throw new InputError(layer.name, `backing chain is deeper than ${maxDepth} images (next would be "${h.backingFile}")`, {
            offset: 8,
            what: 'qcow2 header backing_file_offset',
          });
        }
        const stored = h.backingFile;
        if (/^[a-z][a-z0-9+.-]*:/i.test(stored) && !stored.startsWith('/')) {
          throw new InputError(
            layer.name,
            `backing file "${stored}" uses a protocol or json: name, which is not supported (only local files)`,
            { offset: 8, what: 'qcow2 header backing file name' },
          );
        }
        const next = resolve(stored, layer.path);
        const fmt = h.backingFormat === 'raw' || h.backingFormat === 'qcow2' ? h.backingFormat : 'auto';
        if (h.backingFormat !== null && fmt === 'auto') {
          throw new InputError(layer.name, `backing file format "${h.backingFormat}" is not supported (raw and qcow2 are)`, {
            what: 'qcow2 backing format extension',
          });
        }
        try {
          layer = openLayer(next, next, fmt);
        } catch (e) {
          if (e instanceof InputError && e.file === next && /cannot open/.test(e.message)) {
            throw new InputError(
              layers[layers.length - 1]!.name,
              `backing file "${stored}" (looked for at ${next}) cannot be opened: ${e.message}`,
              { what: 'backing file' },
              { cause: e },
            );
          }
          throw e;
        }
      }
    } catch (e) {
      for (const l of layers) l.file.close();
      throw e;
    }
    return new ImageChain(layers);
  }

  close(): void {
    for (const l of this.layers) l.file.close();
  }
}

/** A key that is equal for two paths of the same file (device and inode). */
function fileIdentity(path: string): string {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch (e) {
    throw new InputError(path, `cannot stat: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

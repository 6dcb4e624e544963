import sharp from 'sharp';
import type { Batch } from '../entities';
import type { ArtifactStore } from '../storage/artifact-store';

/** Sizes of the grid image (docs/batches.md, "Grid"). */
const CELL_MAX = 256;
const HEADER = 28;
const LABEL_WIDTH = 180;
const FONT_SIZE = 13;
const LABEL_CHARS = 26;

export interface RenderedGrid {
  key: string;
  width: number;
  height: number;
}

/** One image of the batch: the first image of the job at `batchIndex`. */
export interface GridCell {
  batchIndex: number;
  storageKey: string;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function shorten(label: string): string {
  return label.length > LABEL_CHARS ? `${label.slice(0, LABEL_CHARS - 1)}…` : label;
}

/**
 * The labels as one SVG over the whole canvas; sharp rasterises it (librsvg
 * with the system's fonts), so no glyphs are drawn by hand.
 */
function labelsSvg(width: number, height: number, cell: { w: number; h: number }, rows: string[], columns: string[]): Buffer {
  const text = (x: number, y: number, label: string, anchor: 'start' | 'middle') =>
    `<text x="${x}" y="${y}" font-family="DejaVu Sans, sans-serif" font-size="${FONT_SIZE}" fill="#111" text-anchor="${anchor}">${escapeXml(shorten(label))}</text>`;
  const parts = [
    ...columns.map((label, c) => text(LABEL_WIDTH + c * cell.w + cell.w / 2, HEADER - 9, label, 'middle')),
    ...rows.map((label, r) => text(8, HEADER + r * cell.h + cell.h / 2 + FONT_SIZE / 3, label, 'start')),
  ];
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`);
}

/**
 * The grid image of a matrix batch: its images tiled by row (prompt) and
 * column (seed or swept value), labelled, as one PNG in the artifact store.
 * A cell whose job produced no image stays blank.
 */
export class BatchGrid {
  constructor(private readonly store: ArtifactStore) {}

  static keyOf(batchId: string): string {
    return `batches/${batchId}/grid.png`;
  }

  async render(batch: Pick<Batch, 'id' | 'axes'>, cells: GridCell[]): Promise<RenderedGrid> {
    const rows = batch.axes?.rowLabels ?? [];
    const columns = batch.axes?.columnLabels ?? [];
    const images = await Promise.all(cells.map(async (c) => ({ ...c, png: await this.store.get(c.storageKey) })));
    const first = images.find((i) => i.png);
    const meta = first?.png ? await sharp(first.png).metadata() : { width: CELL_MAX, height: CELL_MAX };
    const scale = Math.min(1, CELL_MAX / Math.max(meta.width ?? CELL_MAX, meta.height ?? CELL_MAX));
    const cell = { w: Math.round((meta.width ?? CELL_MAX) * scale), h: Math.round((meta.height ?? CELL_MAX) * scale) };
    const width = LABEL_WIDTH + columns.length * cell.w;
    const height = HEADER + rows.length * cell.h;
    const tiles = await Promise.all(images.filter((i) => i.png && i.batchIndex < rows.length * columns.length).map(async (i) => ({
      input: await sharp(i.png!).resize(cell.w, cell.h, { fit: 'fill' }).png().toBuffer(),
      left: LABEL_WIDTH + (i.batchIndex % columns.length) * cell.w,
      top: HEADER + Math.floor(i.batchIndex / columns.length) * cell.h,
    })));
    const png = await sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
      .composite([...tiles, { input: labelsSvg(width, height, cell, rows, columns), left: 0, top: 0 }])
      .png()
      .toBuffer();
    const key = BatchGrid.keyOf(batch.id);
    await this.store.put(key, png, 'image/png');
    return { key, width, height };
  }
}

import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A training tool's state folder (kohya's `--save_state` output, accelerate's
 * files) packed into one buffer, so the command trainer can hand it to the
 * service as TrainingCheckpoint.optimizerState and unpack it to resume.
 * Flat folders only, as those tools write them.
 */
interface PackedFolder { format: 'atelier-state-folder'; files: Record<string, string> }

export async function packFolder(dir: string): Promise<Buffer> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isFile()) files[entry.name] = (await readFile(path.join(dir, entry.name))).toString('base64');
  }
  const packed: PackedFolder = { format: 'atelier-state-folder', files };
  return Buffer.from(JSON.stringify(packed));
}

/** Unpacks {@link packFolder}'s buffer into `dir`; false when the buffer is not one. */
export async function unpackFolder(bytes: Buffer, dir: string): Promise<boolean> {
  let packed: PackedFolder;
  try {
    packed = JSON.parse(bytes.toString('utf8')) as PackedFolder;
  } catch {
    return false;
  }
  if (packed?.format !== 'atelier-state-folder') return false;
  await mkdir(dir, { recursive: true });
  for (const [name, data] of Object.entries(packed.files)) await writeFile(path.join(dir, path.basename(name)), Buffer.from(data, 'base64'));
  return true;
}

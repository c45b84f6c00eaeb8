import { open, readdir, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ConfigFs } from '../../shared/config-validate.js';

/**
 * The file system the shared validator's file checks read (model folder, data files), over
 * Node's fs: the extension runs where the workspace is (extensionKind "workspace"), so this is
 * the workspace's disk, remote ones included. Every path it is asked about is recorded, so the
 * diagnostics can re-validate a config when a file it refers to changes, including one that does
 * not exist yet. No 'vscode' import.
 */
export class RecordingConfigFs implements ConfigFs {
  /** Absolute paths the validator looked at. */
  readonly touched = new Set<string>();

  private note(path: string): string {
    const abs = resolve(path);
    this.touched.add(abs);
    return abs;
  }

  async exists(path: string): Promise<boolean> {
    try {
      await stat(this.note(path));
      return true;
    } catch {
      return false;
    }
  }

  async readText(path: string): Promise<string | undefined> {
    try {
      return await readFile(this.note(path), 'utf8');
    } catch {
      return undefined;
    }
  }

  async readDir(path: string): Promise<string[] | undefined> {
    try {
      return await readdir(this.note(path));
    } catch {
      return undefined;
    }
  }

  async readHead(path: string, bytes: number): Promise<string | undefined> {
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      handle = await open(this.note(path), 'r');
      const buffer = Buffer.alloc(bytes);
      const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
      // A multi-byte character cut at the end decodes to U+FFFD; the validator only reads whole rows.
      return buffer.subarray(0, bytesRead).toString('utf8');
    } catch {
      return undefined;
    } finally {
      await handle?.close();
    }
  }
}

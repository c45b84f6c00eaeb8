/**
 * Failures of the storage itself (a full disk, a dying one) while writing a file, told apart from
 * programming errors so that a run can say which file it was writing and that the fix is space or
 * hardware, not the config. Node's fs errors carry the errno code, and the path only for calls
 * that take one (open, rename: not write or fsync on a descriptor), so each writer maps its errors
 * with the file it was writing.
 */
const STORAGE_FAILURES: Readonly<Record<string, string>> = {
  ENOSPC: 'disk full',
  EDQUOT: 'disk quota exceeded',
  EIO: 'I/O error',
  EROFS: 'read-only file system',
  EFBIG: 'file too large for the file system',
};

export class StorageError extends Error {
  override readonly name = 'StorageError';

  constructor(
    /** The errno code: ENOSPC, EDQUOT, EIO, EROFS or EFBIG. */
    readonly code: string,
    /** The file (or folder) being written, as it is to be reported. */
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(`${STORAGE_FAILURES[code] ?? code} while writing ${file}`, options);
  }

  /** The same failure reported under another name (the final path of a temporary file or folder). */
  at(file: string): StorageError {
    return new StorageError(this.code, file, { cause: this.cause });
  }
}

const errnoCode = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

export const isStorageFailure = (error: unknown): boolean => {
  const code = errnoCode(error);
  return code !== undefined && code in STORAGE_FAILURES;
};

/**
 * `error` as a StorageError naming `file` when it is a storage failure (one already mapped keeps
 * its more precise file); any other error unchanged.
 */
export function storageError(error: unknown, file: string): unknown {
  if (error instanceof StorageError || !isStorageFailure(error)) return error;
  return new StorageError(errnoCode(error) as string, file, { cause: error });
}

/**
 * A local stand-in for the Hub's HTTP API, serving the endpoints @huggingface/hub calls to
 * download a model (read from its source: modelInfo, listFiles, fileDownloadInfo, WebBlob):
 *
 *   GET /api/models/<repo>/revision/<rev>?expand=...   -> {id, sha, ...}
 *   GET /api/models/<repo>/tree/<rev>?recursive=...     -> [{type, path, oid, size, lfs?}]
 *   GET /<repo>/resolve/<rev>/<path>                    -> the bytes; a `Range: bytes=0-0` probe
 *                                                          gets 206 + Content-Range + ETag
 *
 * It listens on 127.0.0.1 only and records every request, so tests can count them.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRepo {
  commit: string;
  files: Record<string, Uint8Array | string>;
  /** Files served as LFS (etag = sha256), like weights on the real Hub. */
  lfs?: string[];
}

export interface FakeHub {
  url: string;
  /** "METHOD path" of every request, in order. */
  requests: string[];
  /** Authorization headers seen. */
  authorizations: string[];
  close(): Promise<void>;
}

/** The git blob id of a file, as the Hub reports `oid` for non-LFS files. */
const gitOid = (bytes: Buffer) =>
  createHash('sha1')
    .update(Buffer.concat([Buffer.from(`blob ${bytes.length}\0`), bytes]))
    .digest('hex');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Sends a JSON response; returns true so a handler can `return json(...)`. */
function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): true {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
  return true;
}

export async function startFakeHub(repos: Record<string, FakeRepo>): Promise<FakeHub> {
  const requests: string[] = [];
  const authorizations: string[] = [];
  const bytesOf = (repo: FakeRepo, path: string) => {
    const content = repo.files[path];
    return content === undefined ? undefined : Buffer.from(content);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = decodeURIComponent(url.pathname);
    requests.push(`${req.method} ${path}`);
    if (req.headers.authorization) authorizations.push(req.headers.authorization);
    for (const [name, repo] of Object.entries(repos)) {
      const revisionOk = (rev: string) => rev === 'main' || rev === repo.commit;
      const api = `/api/models/${name}/`;
      if (path.startsWith(`${api}revision/`)) {
        const rev = path.slice(`${api}revision/`.length);
        if (!revisionOk(rev))
          return json(
            res,
            404,
            { error: `Revision Not Found for url ${path}` },
            { 'X-Error-Code': 'RevisionNotFound' },
          );
        return json(res, 200, {
          _id: `id-${name}`,
          id: name,
          sha: repo.commit,
          private: false,
          gated: false,
          downloads: 0,
          likes: 0,
          lastModified: '2024-01-01T00:00:00.000Z',
          siblings: Object.keys(repo.files).map((rfilename) => ({ rfilename })),
        });
      }
      if (path.startsWith(`${api}tree/`)) {
        const rev = path.slice(`${api}tree/`.length);
        if (!revisionOk(rev))
          return json(res, 404, { error: 'Revision Not Found' }, { 'X-Error-Code': 'RevisionNotFound' });
        return json(
          res,
          200,
          Object.keys(repo.files).map((p) => {
            const bytes = bytesOf(repo, p) as Buffer;
            const entry: Record<string, unknown> = { type: 'file', path: p, oid: gitOid(bytes), size: bytes.length };
            if (repo.lfs?.includes(p)) entry.lfs = { oid: sha256(bytes), size: bytes.length, pointerSize: 134 };
            return entry;
          }),
        );
      }
      const resolve = `/${name}/resolve/`;
      if (path.startsWith(resolve)) {
        const rest = path.slice(resolve.length);
        const slash = rest.indexOf('/');
        const rev = rest.slice(0, slash);
        const file = rest.slice(slash + 1);
        const bytes = bytesOf(repo, file);
        if (!revisionOk(rev) || !bytes)
          return json(res, 404, { error: 'Entry not found' }, { 'X-Error-Code': 'EntryNotFound' });
        const lfs = repo.lfs?.includes(file);
        const headers: Record<string, string> = {
          'Content-Type': 'application/octet-stream',
          'Accept-Ranges': 'bytes',
          ETag: `"${gitOid(bytes)}"`,
          'X-Repo-Commit': repo.commit,
          ...(lfs ? { 'X-Linked-ETag': `"${sha256(bytes)}"`, 'X-Linked-Size': String(bytes.length) } : {}),
        };
        const range = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range ?? ''));
        if (range) {
          const start = Number(range[1]);
          const end = Math.min(Number(range[2]), bytes.length - 1);
          res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${bytes.length}` });
          res.end(bytes.subarray(start, end + 1));
          return true;
        }
        res.writeHead(200, { ...headers, 'Content-Length': String(bytes.length) });
        res.end(bytes);
        return true;
      }
    }
    return json(res, 404, { error: 'Repository not found' }, { 'X-Error-Code': 'RepoNotFound' });
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    authorizations,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

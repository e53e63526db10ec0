// Child-process entry for startS3Server (lib/services/s3.ts): runs s3rver 3.7.1 on 127.0.0.1.
// Plain JS so it runs with `node` alone. Arguments: one JSON object {dir, port, buckets}.
// Prints one line `S3RVER_READY <port>` once it listens; exits when its parent goes away (stdin closes).
import S3rver from 's3rver';
import FilesystemStore from 's3rver/lib/stores/filesystem.js';

// s3rver removes a key's directories once empty after a delete; a concurrent put into the same
// directory then fails to open its file and the unhandled stream error kills the server (seen when
// a backup re-uploads a chunk while collection deletes its old object). S3 has no directories:
// delete the object's files only and leave empty directories, which listings never show.
FilesystemStore.prototype.deleteObject = async function deleteObject(bucket, key) {
  const { unlink } = await import('node:fs/promises');
  await Promise.all(
    ['object', 'object.md5', 'metadata.json'].map((resource) =>
      unlink(this.getResourcePath(bucket, key, resource)).catch((err) => {
        if (err.code !== 'ENOENT') throw err;
      }),
    ),
  );
};

const { dir, port = 0, buckets = [] } = JSON.parse(process.argv[2] ?? '{}');

const server = new S3rver({
  address: '127.0.0.1',
  port,
  directory: dir,
  silent: true,
  configureBuckets: buckets.map((name) => ({ name })),
});

let closing = false;
async function shutdown(code) {
  if (closing) return;
  closing = true;
  // Keep-alive sockets from S3 clients would hold close() open; drop them and don't wait long.
  server.httpServer?.closeAllConnections?.();
  setTimeout(() => process.exit(code), 1000).unref();
  try {
    await server.close();
  } finally {
    process.exit(code);
  }
}

process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
// The parent holds our stdin open; when it dies (even by SIGKILL) the pipe closes and we follow.
process.stdin.on('end', () => void shutdown(0));
process.stdin.on('error', () => void shutdown(0));
process.stdin.resume();

try {
  const address = await server.run();
  process.stdout.write(`S3RVER_READY ${address.port}\n`);
} catch (err) {
  process.stderr.write(`s3rver failed to start: ${err?.stack ?? err}\n`);
  process.exit(1);
}

// Runs the B2 emulator as its own process:
//   tsx lib/b2server/main.ts --dir .strata/b2 --port 0 --key-id K --key S --bucket B [--bucket B2] [--host H]
// Prints one JSON line {"url","port","bucketIds"} on stdout when ready; stops cleanly on SIGTERM/SIGINT.
import { parseArgs } from 'node:util';
import { startB2Server } from './index.ts';

function usage(message: string): never {
  process.stderr.write(`b2server: ${message}\nusage: tsx lib/b2server/main.ts --key-id K --key S [--dir .strata/b2] [--port 0] [--host 127.0.0.1] [--bucket NAME]...\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        dir: { type: 'string', default: '.strata/b2' },
        port: { type: 'string', default: '0' },
        host: { type: 'string', default: '127.0.0.1' },
        'key-id': { type: 'string' },
        key: { type: 'string' },
        bucket: { type: 'string', multiple: true, default: [] },
      },
      strict: true,
    }));
  } catch (err) {
    usage((err as Error).message);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`--port must be 0..65535, not ${values.port}`);
  if (!values['key-id'] || !values.key) usage('--key-id and --key are required');

  const server = await startB2Server({ dir: values.dir, port, host: values.host, keyId: values['key-id'], key: values.key, buckets: values.bucket });
  process.stdout.write(`${JSON.stringify({ url: server.url, port: server.port, bucketIds: server.bucketIds })}\n`);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`b2server: stop failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`b2server: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

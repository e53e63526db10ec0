// `npm run screenshots`: the README's pictures (docs/screenshots/*.png) from the demo's data, in
// headless Chromium: a production build, then the e2e readme project on a free port.
import { freePort } from '../lib/services/postgres.ts';
import { ensureTools, TOOLS } from '../lib/process/system-tools.ts';
import { run } from './node-tests.ts';

ensureTools([TOOLS.zstd, TOOLS.age, TOOLS.ageKeygen, TOOLS.pgDump, TOOLS.pgRestore, TOOLS.psql, TOOLS.postgres, TOOLS.chromium]);
const env = { ...process.env, E2E_PORT: String(await freePort()), STRATA_SCREENSHOTS_DIR: 'docs/screenshots' };
let code = await run(process.execPath, ['node_modules/next/dist/bin/next', 'build'], { ...env, NODE_ENV: 'production' });
if (code === 0) code = await run('node_modules/.bin/playwright', ['test', '--project', 'readme'], env);
process.exit(code);

// The test-hook API under /__strata/ for other processes (the in-process twin is on the object
// startB2Server returns). It needs the server's key: Authorization: Basic base64(keyId:key).
//   POST /__strata/expire-tokens            every current token answers 401 expired_auth_token
//   POST /__strata/fail-uploads  {"n": 2}   the next n upload_file/upload_part answer 503
//   POST /__strata/latency       {"ms": 50} every B2 call waits this long first (0 = off)
//   GET  /__strata/state                    {"pendingUploadFailures", "latencyMs"}
import type { Call } from './context.ts';
import { notFound, unauthorized } from './errors.ts';
import { readParams, sendJson } from './http.ts';
import { hasMasterKey } from './handlers/account.ts';

export async function control(call: Call, action: string): Promise<void> {
  const { state, req, res, url } = call;
  const p = await readParams(req, url);
  if (!hasMasterKey(req, state.keyId, state.key)) throw unauthorized('test hooks need Basic authorization with the server key');
  switch (action) {
    case 'expire-tokens':
      state.tokens.expireAll();
      break;
    case 'fail-uploads':
      state.faults.failNextUploads(p.optionalInt('n', 0, 1_000_000) ?? 1);
      break;
    case 'latency':
      state.faults.setLatencyMs(p.optionalInt('ms', 0, 600_000) ?? 0);
      break;
    case 'state':
      break;
    default:
      throw notFound(`no test hook ${action}`);
  }
  sendJson(res, 200, { pendingUploadFailures: state.faults.pendingUploadFailures(), latencyMs: state.faults.latencyMs });
}

// Request/response plumbing shared by the handlers: JSON in and out, B2 error bodies, draining
// request bodies so an early error still reaches a client that is busy sending.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { B2Error, badRequest } from './errors.ts';

const MAX_JSON_BYTES = 1024 * 1024;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json;charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'max-age=0, no-cache, no-store',
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err instanceof B2Error) {
    sendJson(res, err.status, err.toJSON());
    return;
  }
  console.error('b2server: internal error:', err);
  sendJson(res, 500, { status: 500, code: 'internal_error', message: 'internal error' });
}

/** Reads and discards the rest of the request body (resolves at its end or on a broken connection). */
export function drain(req: IncomingMessage): Promise<void> {
  if (req.readableEnded || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    req.on('end', resolve);
    req.on('close', resolve);
    req.on('error', () => resolve());
    req.resume();
  });
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_BYTES) {
      await drain(req);
      throw badRequest('request body too large');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Parameters of a JSON API call: the JSON body of a POST, or the query string of a GET. */
export async function readParams(req: IncomingMessage, url: URL): Promise<Params> {
  if (req.method === 'GET' || req.method === 'HEAD') return new Params(Object.fromEntries(url.searchParams), true);
  const body = await readBody(req);
  if (body.length === 0) return new Params({}, false);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new B2Error(400, 'bad_json', 'request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new B2Error(400, 'bad_json', 'request body must be a JSON object');
  return new Params(parsed as Record<string, unknown>, false);
}

export class Params {
  constructor(
    readonly raw: Record<string, unknown>,
    /** Query-string values are all strings; numbers and JSON are parsed from them. */
    private readonly fromQuery: boolean,
  ) {}

  string(name: string): string {
    const v = this.optionalString(name);
    if (v === undefined || v === '') throw badRequest(`required field ${name} is missing`);
    return v;
  }

  optionalString(name: string): string | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw badRequest(`field ${name} must be a string`);
    return v;
  }

  optionalInt(name: string, min: number, max: number): number | undefined {
    let v = this.raw[name];
    if (v === undefined || v === null || v === '') return undefined;
    if (this.fromQuery && typeof v === 'string' && /^-?\d+$/.test(v)) v = Number(v);
    if (typeof v !== 'number' || !Number.isInteger(v)) throw badRequest(`field ${name} must be an integer`);
    if (v < min || v > max) throw badRequest(`${name} must be between ${min} and ${max}`);
    return v;
  }

  optionalJson(name: string): unknown {
    const v = this.raw[name];
    if (this.fromQuery && typeof v === 'string') {
      try {
        return JSON.parse(v);
      } catch {
        throw badRequest(`field ${name} is not valid JSON`);
      }
    }
    return v;
  }

  stringArray(name: string): string[] {
    const v = this.optionalJson(name);
    if (v === undefined || v === null) throw badRequest(`required field ${name} is missing`);
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw badRequest(`field ${name} must be an array of strings`);
    return v as string[];
  }

  optionalStringMap(name: string): Record<string, string> | undefined {
    const v = this.optionalJson(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`field ${name} must be an object`);
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      if (typeof val !== 'string') throw badRequest(`${name}.${k} must be a string`);
      out[k] = val;
    }
    return out;
  }
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** B2 percent-encodes file names and info values in headers, with `+` standing for a space. */
export function b2UrlDecode(value: string, what: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    throw badRequest(`${what} is not correctly percent-encoded`);
  }
}

/** Percent-encodes like B2 does in response headers: everything but unreserved characters and `/`. */
export function b2UrlEncode(value: string): string {
  return encodeURIComponent(value).replace(/%2F/g, '/').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

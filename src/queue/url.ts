/** The queue's address (`--queue`): parsed and checked before anything connects, and shown without its password. */
import { InputError, clip } from '../errors.ts';

/** Parses `--queue`: a redis:// or rediss:// URL (user, password, host, port, database number). */
export function parseQueueUrl(text: string, flag = '--queue'): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(flag, `'${clip(text)}' is not a URL (expected redis://[user:password@]host[:port][/db] or rediss://...)`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new InputError(flag, `'${clip(url.protocol)}' is not redis: or rediss:`);
  if (!url.hostname) throw new InputError(flag, 'names no host');
  if (url.pathname && url.pathname !== '/' && !/^\/\d+$/.test(url.pathname)) throw new InputError(flag, `database '${clip(url.pathname.slice(1))}' is not a number`);
  return url;
}

/** The URL without its password, for messages. */
export function safeUrl(url: URL): string {
  const u = new URL(url.href);
  if (u.password) u.password = '***';
  return u.href;
}

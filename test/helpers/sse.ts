// Reads a Server-Sent Events stream with fetch, keeping each event's `id:`
// line next to its parsed data, and whether the server ended the stream.
import type { EventView } from '../../src/client/types.ts';

export interface SseEvent {
  /** The `id:` line. */
  id: number;
  /** The `event:` line. */
  type: string;
  data: EventView;
}

export interface SseStream {
  events: SseEvent[];
  /** Resolves when the server ends the stream; rejects on timeout. */
  ended: Promise<SseEvent[]>;
  close(): void;
}

export async function openSse(
  url: string,
  headers: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  if (res.status !== 200) throw new Error(`events answered ${res.status}: ${await res.text()}`);
  if (!res.headers.get('content-type')?.startsWith('text/event-stream'))
    throw new Error(`events content-type is ${res.headers.get('content-type')}`);
  const events: SseEvent[] = [];
  const timer = setTimeout(
    () => abort.abort(new Error(`the stream did not end within ${timeoutMs} ms`)),
    timeoutMs,
  );
  const ended = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let at = buffer.indexOf('\n\n');
        while (at >= 0) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          const field = (name: string) =>
            block
              .split('\n')
              .filter((l) => l.startsWith(`${name}: `))
              .map((l) => l.slice(name.length + 2))
              .join('\n');
          const data = field('data');
          if (data) events.push({ id: Number(field('id')), type: field('event'), data: JSON.parse(data) });
          at = buffer.indexOf('\n\n');
        }
      }
    } finally {
      clearTimeout(timer);
    }
    return events;
  })();
  ended.catch(() => {});
  return { events, ended, close: () => abort.abort() };
}

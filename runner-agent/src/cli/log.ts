// The log of `flotilla agent` and `flotilla worker`: pino's JSON lines for a
// log collector, or, on a terminal, one line a person reads at a glance.
import pino, { type Logger } from 'pino';

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

export function cliLogger(): Logger {
  const level = process.env.FLOTILLA_LOG_LEVEL ?? 'info';
  if (!process.stdout.isTTY || process.env.FLOTILLA_LOG_FORMAT === 'json') return pino({ level });
  return pino({ level }, { write: (line: string) => process.stdout.write(readable(line)) });
}

/** `16:18:15 INFO agent ready url=http://127.0.0.1:8420 taskCap=5` from one of pino's JSON lines. */
export function readable(json: string): string {
  const { level, time, msg, pid: _pid, hostname: _host, err, ...fields } = JSON.parse(json);
  const parts = [new Date(time).toTimeString().slice(0, 8), LEVELS[level] ?? String(level), msg ?? ''];
  for (const [k, v] of Object.entries(fields))
    parts.push(`${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  // An error says what happened; its stack stays in the JSON format, for whoever debugs the agent.
  if (err) parts.push(`error=${typeof err === 'string' ? err : (err.message ?? JSON.stringify(err))}`);
  return `${parts.filter(Boolean).join(' ')}\n`;
}

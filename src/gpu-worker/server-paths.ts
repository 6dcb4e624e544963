/** An absolute file path (POSIX or Windows) not inside a URL or a relative key: a folder part, then its last name. */
const SERVER_PATH = /(?<![\w.~:/\\-])(?:[A-Za-z]:)?[\\/](?:[^\s'"`:;,()[\]{}<>\\/]+[\\/])+([^\s'"`:;,()[\]{}<>\\/]*)/g;

/**
 * A failure's message as its owner sees it (`Job.error`, `TrainingRun.error`, the FAILED events): every absolute
 * path on the worker's machine cut to its last name (`…/remote-img`), so the server's layout is not shown to
 * users. The worker's log keeps the whole message (docs/training.md, "Limits").
 */
export function withoutServerPaths(message: string): string {
  return message.replace(SERVER_PATH, (_path, last: string) => `…/${last}`);
}

import { spawn } from 'node:child_process';

/**
 * Opens a URL with the desktop's handler, if there is one. Never throws and never waits: on a
 * server or in a container there is no browser, and the printed URL is the way forward.
 */
export function openBrowser(url: string): void {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? // rundll32 takes the URL as one argument; `cmd /c start` would split it at every `&`.
          ['rundll32', ['url.dll,FileProtocolHandler', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // No handler: the user opens the printed URL.
  }
}

/**
 * The bridge of the memory figure, in a process of its own so that its resident set holds the
 * bridge only: the devices (the benchmark process) and the upstream (the stand-ins) live
 * elsewhere. Started with the job, it listens and reports its port; the parent then asks it to
 * mark a baseline and, once every message was answered, for the peak since that mark.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { BridgePackage } from '../helpers/package.js';

export interface BridgeWorkerJob {
  distBridgeEsm: string;
  /** The bridge's upstream: a config of the package (JSON). */
  upstream: Record<string, unknown>;
  maxConnections: number;
}

export type BridgeWorkerCommand = { cmd: 'mark' } | { cmd: 'peak' } | { cmd: 'close' };

export interface BridgeWorkerReply {
  /** Bytes. `peakRss` is the highest resident set since the last mark. */
  rss: number;
  peakRss?: number;
  /** Where the peak came from: the kernel's high-water mark, or sampling every few ms. */
  peakSource?: 'VmHWM' | 'sampled';
}

const WATCHDOG_MS = 5 * 60_000;
setTimeout(() => {
  process.stderr.write('bridge worker: not closed within 5 min\n');
  process.exit(3);
}, WATCHDOG_MS).unref();

const gc = (globalThis as { gc?: () => void }).gc;
const job = await new Promise<BridgeWorkerJob>((resolve) => process.once('message', (m) => resolve(m as BridgeWorkerJob)));
const pkg = (await import(pathToFileURL(job.distBridgeEsm).href)) as BridgePackage;

const bridge = pkg.createBridge({
  listen: { host: '127.0.0.1', port: 0 },
  // Each device of the figure connects from an address of its own in 127.0.0.0/8.
  allowNetworks: ['127.0.0.0/8'],
  upstream: job.upstream as never,
  limits: { maxConnections: job.maxConnections },
});
const [address] = await bridge.listen();

// The kernel's own peak (VmHWM) sees a spike that a timer would miss while the event loop is
// busy in one long call; writing 5 to clear_refs restarts it (Linux). Sampling is the fallback.
let sampled = 0;
setInterval(() => {
  sampled = Math.max(sampled, process.memoryUsage.rss());
}, 5).unref();

function resetKernelPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

function kernelPeak(): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match?.[1] ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

let kernelPeakValid = false;
process.on('message', (message) => {
  const command = message as BridgeWorkerCommand;
  if (command.cmd === 'mark') {
    gc?.();
    gc?.();
    const rss = process.memoryUsage.rss();
    sampled = rss;
    kernelPeakValid = resetKernelPeak();
    process.send?.({ rss } satisfies BridgeWorkerReply);
  } else if (command.cmd === 'peak') {
    const rss = process.memoryUsage.rss();
    sampled = Math.max(sampled, rss);
    const hwm = kernelPeakValid ? kernelPeak() : undefined;
    const reply: BridgeWorkerReply =
      hwm !== undefined ? { rss, peakRss: Math.max(hwm, sampled), peakSource: 'VmHWM' } : { rss, peakRss: sampled, peakSource: 'sampled' };
    process.send?.(reply);
  } else {
    void bridge.close().then(() => process.send?.({ rss: process.memoryUsage.rss() } satisfies BridgeWorkerReply, () => process.exit(0)));
  }
});
process.send?.({ ready: true, port: address!.port });

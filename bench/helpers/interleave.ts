import { Bench } from 'tinybench';

/** What one iteration may report besides the time tinybench measured itself. */
export interface IterationReport {
  /** A duration measured elsewhere (a child process's own clock); replaces tinybench's. */
  durationMs?: number;
  /** Named figures of this iteration (heap bytes, request counts...). */
  extra?: Record<string, number>;
}

export interface Contender {
  name: string;
  /** One whole iteration; every loop inside must be bounded. */
  run: () => Promise<IterationReport | void>;
}

export interface ContenderSamples {
  name: string;
  /** Wall time per round, as tinybench measured it (ms). */
  wallMs: number[];
  /** CPU time (user + system) of this process per round (ms). */
  cpuMs: number[];
  extra: Record<string, number[]>;
}

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Runs the contenders in rounds, each round a tinybench Bench with one iteration per task and
 * the task order alternating (A B, B A, ...), so that drift on a noisy machine (other
 * processes, thermal throttling, a slow neighbour) hits both sides of every pair alike. Warmup
 * rounds run first and are discarded. A GC runs before every iteration when `--expose-gc` is
 * on, so no contender pays for the other's garbage.
 */
export async function interleavedRounds(
  contenders: readonly Contender[],
  opts: { rounds: number; warmupRounds?: number; label?: string },
): Promise<ContenderSamples[]> {
  const samples = contenders.map<ContenderSamples>((c) => ({ name: c.name, wallMs: [], cpuMs: [], extra: {} }));
  const total = (opts.warmupRounds ?? 1) + opts.rounds;
  for (let round = 0; round < total; round++) {
    const measured = round >= (opts.warmupRounds ?? 1);
    const order = round % 2 === 0 ? contenders.map((_, i) => i) : contenders.map((_, i) => contenders.length - 1 - i);
    const bench = new Bench({ iterations: 1, time: 0, warmup: false, retainSamples: true, throws: true });
    const cpuOf = new Map<number, number>();
    const extraOf = new Map<number, Record<string, number>>();
    for (const index of order) {
      const contender = contenders[index]!;
      bench.add(
        contender.name,
        async () => {
          const cpu0 = process.cpuUsage();
          const report = (await contender.run()) ?? {};
          const cpu = process.cpuUsage(cpu0);
          cpuOf.set(index, (cpu.user + cpu.system) / 1000);
          if (report.extra) extraOf.set(index, report.extra);
          return report.durationMs !== undefined ? { overriddenDuration: report.durationMs } : undefined;
        },
        { beforeEach: () => gc?.() },
      );
    }
    await bench.run();
    if (!measured) continue;
    for (const index of order) {
      const task = bench.getTask(contenders[index]!.name);
      const result = task?.result;
      if (!result || !('latency' in result)) throw new Error(`${opts.label ?? 'bench'}: task ${contenders[index]!.name} did not complete`);
      const target = samples[index]!;
      target.wallMs.push(result.latency.p50);
      target.cpuMs.push(cpuOf.get(index) ?? Number.NaN);
      for (const [key, value] of Object.entries(extraOf.get(index) ?? {})) (target.extra[key] ??= []).push(value);
    }
  }
  return samples;
}

import type { Package } from './package.js';
import type { StandIns } from './stand-ins.js';

/** How much work each section does; `--quick` shrinks it for a smoke run. */
export interface Scale {
  /** Measured rounds per contender (after one warmup round). */
  rounds: number;
  overheadMessages: number;
  /** Overhead in processes of their own: pairs of processes, and each process's batches. */
  overheadPairs: number;
  overheadBatches: { warmup: number; measured: number };
  concurrentColdSends: number;
  redisWorkers: number;
  importRounds: number;
  gmailApiMessages: number;
  /** Bridge memory: rounds, each with a fresh bridge process. */
  bridgeMemoryRounds: number;
  /** Send log and budget: processes, each alternating batches between its sides for this many measured rounds. */
  alternatingProcesses: number;
  alternatingRounds: number;
  /** Send log: records the reader filters. */
  sendLogRecords: number;
}

export interface BenchContext {
  pkg: Package;
  standIns: StandIns;
  scale: Scale;
  log: (line: string) => void;
}

/** A figure checked against its target (lower is better, `value <= target` passes). */
export interface Check {
  name: string;
  value: number;
  target: number;
}

export interface SectionResult {
  title: string;
  markdown: string;
  checks: Check[];
}

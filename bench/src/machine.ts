import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, type as osType, release } from 'node:os';
import { join } from 'node:path';

/** The libraries whose versions change the numbers. */
const LIBRARIES = [
  'jose',
  'fast-jwt',
  'jsonwebtoken',
  'fastify',
  'express',
  'autocannon',
  'argon2',
  'better-auth',
];
const ROOT = join(import.meta.dirname, '..', '..');

/** Where and with what a run was measured, stored with every result. */
export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  /** The 1-minute load average when the run started: high means other work was competing. */
  loadAverage: number;
  libraries: Record<string, string>;
}

export function describeMachine(): Machine {
  const cpuList = cpus();
  const libraries: Record<string, string> = {};
  for (const name of LIBRARIES) libraries[name] = installedVersion(name);
  return {
    cpu: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${osType()} ${release()}`,
    node: process.version,
    loadAverage: loadavg()[0] ?? 0,
    libraries,
  };
}

function installedVersion(name: string): string {
  try {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
      version?: string;
    };
    return manifest.version ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

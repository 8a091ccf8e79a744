// Private service processes for the failure drills: a MinIO and a LiveKit of the
// drill's own (own ports, data dir, credentials, config), which a drill may kill and
// start again without touching the shared services other test files use.
// Binaries are the ones scripts/test-services.sh builds into the cache.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './instances.ts';
import { tcpReachable } from './services.ts';

const cacheDir = process.env.AURALINK_CACHE ?? path.join(process.env.HOME ?? os.homedir(), '.cache', 'auralink');

/** The newest `<bin>/<prefix>*\/<name>` the services script built, or null. */
export function cachedBinary(prefix: string, name: string): string | null {
  const root = path.join(cacheDir, 'bin');
  if (!fs.existsSync(root)) return null;
  const found = fs
    .readdirSync(root)
    .filter((d) => d.startsWith(prefix))
    .sort()
    .map((d) => path.join(root, d, name))
    .filter((p) => {
      try {
        fs.accessSync(p, fs.constants.X_OK);
        return fs.statSync(p).isFile();
      } catch {
        return false;
      }
    });
  return found.at(-1) ?? null;
}

export const minioBinary = () => process.env.AURALINK_MINIO_BIN ?? cachedBinary('minio-', 'minio');
export const livekitBinary = () => process.env.AURALINK_LIVEKIT_BIN ?? cachedBinary('livekit-server-', 'server');

// Every process started here, killed on exit even when a test forgets (or crashes).
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface PrivateProcess {
  readonly child: ChildProcess;
  output(): string;
  running(): boolean;
  /** Sends the signal and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

async function sleep(ms: number) {
  await new Promise((r) => setTimeout(r, ms));
}

/** Spawns cmd and waits until ready() holds; the process is killed when it never does. */
export async function spawnReady(
  name: string,
  cmd: string,
  args: string[],
  env: Record<string, string>,
  ready: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<PrivateProcess> {
  const child = spawn(cmd, args, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-8000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      live.delete(child);
      resolve();
    }),
  );
  child.once('error', (err) => (out += `\nspawn error: ${err.message}`));
  const running = () => child.exitCode === null && child.signalCode === null && child.pid !== undefined;
  const handle: PrivateProcess = {
    child,
    output: () => out,
    running,
    async kill(signal = 'SIGKILL') {
      if (!running()) return;
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await sleep(150);
    if (!running()) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}):\n${out}`);
    if (await ready().catch(() => false)) return handle;
    if (Date.now() > deadline) {
      await handle.kill();
      throw new Error(`${name} not ready within ${timeoutMs} ms:\n${out}`);
    }
  }
}

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await res.arrayBuffer();
  return res.ok;
}

/** Throws when something already listens on one of the ports (another run of this drill?). */
export async function assertPortsFree(ports: number[]): Promise<void> {
  for (const p of ports) {
    if (await tcpReachable('127.0.0.1', p, 500)) throw new Error(`port ${p} is already in use; a drill needs it for its private service`);
  }
}

export interface PrivateMinio {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  dataDir: string;
  process(): PrivateProcess;
  /** Starts it (again) on the same data dir and ports. */
  start(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function privateMinio(bin: string, dir: string, port: number, consolePort: number): PrivateMinio {
  const dataDir = path.join(dir, 'minio-data');
  fs.mkdirSync(dataDir, { recursive: true });
  const accessKey = 'drill-minio';
  const secretKey = 'drill-minio-secret-not-shared-0123';
  const region = 'us-east-1';
  let proc: PrivateProcess | null = null;
  const m: PrivateMinio = {
    endpoint: `http://127.0.0.1:${port}`,
    accessKey,
    secretKey,
    region,
    dataDir,
    process: () => proc!,
    async start() {
      proc = await spawnReady(
        'private MinIO',
        bin,
        ['server', dataDir, '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet'],
        {
          MINIO_ROOT_USER: accessKey,
          MINIO_ROOT_PASSWORD: secretKey,
          MINIO_SITE_REGION: region,
          MINIO_UPDATE: 'off',
          MINIO_CI_CD: '1',
          MINIO_BROWSER: 'off',
        },
        () => httpOk(`http://127.0.0.1:${port}/minio/health/ready`),
        45_000,
      );
    },
    async kill(signal = 'SIGKILL') {
      await proc?.kill(signal);
    },
  };
  return m;
}

/** A private MinIO on two free ports, started. */
export async function startPrivateMinio(bin: string, dir: string): Promise<PrivateMinio> {
  const minio = privateMinio(bin, dir, await freePort(), await freePort());
  await minio.start();
  return minio;
}

/** The app's env that stores files in the private MinIO, in `bucket`. */
export function minioStorageEnv(minio: PrivateMinio, bucket: string): Record<string, string> {
  return {
    STORAGE_BACKEND: 's3',
    S3_ENDPOINT: minio.endpoint,
    S3_ACCESS_KEY_ID: minio.accessKey,
    S3_SECRET_ACCESS_KEY: minio.secretKey,
    S3_REGION: minio.region,
    STORAGE_BUCKET: bucket,
  };
}

export interface LiveKitPorts {
  http: number;
  rtcTcp: number;
  udpStart: number;
  udpEnd: number;
}

export interface PrivateLiveKit {
  url: string;
  apiKey: string;
  apiSecret: string;
  configFile: string;
  start(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  process(): PrivateProcess;
}

/**
 * A LiveKit of the drill's own: the test settings of scripts/test-services.sh
 * (loopback only) on other ports, its own key, and no webhook at all.
 */
export function privateLiveKit(bin: string, dir: string, ports: LiveKitPorts): PrivateLiveKit {
  const apiKey = 'drill-livekit-key';
  const apiSecret = 'drill-livekit-secret-not-shared-0123456789abcdef';
  const configFile = path.join(dir, 'livekit.yaml');
  fs.writeFileSync(
    configFile,
    [
      '# written by test/helpers/drills.ts for one drill; no webhook',
      `port: ${ports.http}`,
      'bind_addresses:',
      '  - 127.0.0.1',
      'rtc:',
      `  tcp_port: ${ports.rtcTcp}`,
      `  port_range_start: ${ports.udpStart}`,
      `  port_range_end: ${ports.udpEnd}`,
      '  use_external_ip: false',
      '  node_ip: 127.0.0.1',
      '  enable_loopback_candidate: true',
      '  interfaces:',
      '    includes: [lo]',
      '  ips:',
      '    includes: [127.0.0.1/32]',
      'keys:',
      `  ${apiKey}: ${apiSecret}`,
      'logging:',
      '  level: warn',
      '',
    ].join('\n'),
  );
  let proc: PrivateProcess | null = null;
  return {
    url: `ws://127.0.0.1:${ports.http}`,
    apiKey,
    apiSecret,
    configFile,
    process: () => proc!,
    async start() {
      proc = await spawnReady(
        'private LiveKit',
        bin,
        ['--config', configFile, '--bind', '127.0.0.1', '--node-ip', '127.0.0.1'],
        {},
        () => httpOk(`http://127.0.0.1:${ports.http}/`),
        30_000,
      );
    },
    async kill(signal = 'SIGKILL') {
      await proc?.kill(signal);
    },
  };
}

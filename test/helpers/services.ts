// Which real services this test run can reach. Without CI a missing service skips
// its tests with a loud reason; with CI=true a missing service fails the run.
import net from 'node:net';

export const inCI = /^(1|true)$/i.test(process.env.CI ?? '');

export function tcpReachable(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Returns a `skip` value for node:test: false when the service is there, a reason
 * string when it is not (outside CI). In CI a missing service throws.
 */
export async function serviceSkip(name: string, available: boolean, how: string): Promise<string | false> {
  if (available) return false;
  const reason = `${name} is not reachable (${how}); start it with scripts/test-services.sh start`;
  if (inCI) throw new Error(`CI=true and ${reason}`);
  process.stderr.write(`\n!!! SKIPPING: ${reason}\n\n`);
  return reason;
}

export function urlHostPort(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: u.port ? Number(u.port) : defaultPort };
}

/** The test MinIO's endpoint (scripts/test-services.sh) and S3 settings for a bucket on it. */
export const testS3Endpoint = process.env.TEST_S3_ENDPOINT ?? 'http://127.0.0.1:19000';
export function testS3Settings(bucket: string, endpoint = testS3Endpoint) {
  return {
    bucket,
    endpoint,
    region: process.env.TEST_S3_REGION ?? 'us-east-1',
    accessKeyId: process.env.TEST_S3_ACCESS_KEY ?? 'auralinktest',
    secretAccessKey: process.env.TEST_S3_SECRET_KEY ?? 'auralink-test-minio-secret-0123',
    forcePathStyle: true,
  };
}
